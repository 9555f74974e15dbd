package dialogs

import (
	"strings"

	"bonusbot/ledger"
)

// History: the last operations, HistoryPage at a time; "older" edits the same message.

// HistoryPage is how many operations a history page shows.
const HistoryPage = 8

func showHistory(s State, in Input) (State, []Output) { return historyPage(s, in, false) }
func editHistory(s State, in Input) (State, []Output) { return historyPage(s, in, true) }

func historyPage(s State, in Input, edit bool) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	if len(r.Ops) == 0 {
		out := Say(T("history.empty"))
		out.Edit = edit
		return s, []Output{out}
	}
	lines := []Text{T("history.title")}
	for _, op := range r.Ops {
		lines = append(lines, HistoryLine(op))
	}
	out := Say(lines...)
	out.Edit = edit
	if len(r.Ops) == HistoryPage {
		out = out.WithButtons(Button{T("button.older"), cb(cbHistory, r.Ops[len(r.Ops)-1].TxID)})
	}
	return s, []Output{out}
}

// HistoryLine is one operation as a history line: its date, signed points, kind and detail. Other
// channels lay out the same arguments (At, Points, Abs, Kind, Detail) with their own message ids.
func HistoryLine(op ledger.Operation) Text {
	return T("history.line", "At", op.At, "Points", op.Points, "Abs", abs(op.Points),
		"Kind", T("history.kind."+op.Kind, "Fallback", op.Kind), "Detail", detail(op))
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// detail is what a history line adds: an item code, or the other party of a gift, masked.
func detail(op ledger.Operation) string {
	switch {
	case strings.HasPrefix(op.Detail, "+"):
		return ledger.MaskPhone(op.Detail)
	case op.Kind == "redeem" || op.Kind == "refund":
		return op.Detail
	}
	return ""
}
