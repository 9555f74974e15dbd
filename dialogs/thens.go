package dialogs

// Then continues a dialog once the effect it asked for has run: the effect's Result is in
// Input.Result. An Effect names its Then as a function value, so a continuation that does not exist
// does not compile; one that needs more than the Result (a catalogue page) closes over it.
type Then func(State, Input) (State, []Output)

// Continue runs the continuation e names with the effect's result r.
func Continue(s State, in Input, e Effect, r Result) (State, []Output) {
	in.Result = &r
	return e.Then(s, in)
}
