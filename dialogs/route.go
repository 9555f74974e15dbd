package dialogs

// Handle is the whole conversation as one pure function: the next State and what to say for one
// Input. Results of effects do not come here; the Engine passes them to the continuation an Effect names.
func Handle(s State, in Input) (State, []Output) {
	if s.Step != StepMenu && in.At.After(s.Until) {
		return expired(s, in)
	}
	if s.Step == StepSupport && s.Linked() {
		return support(s, in)
	}
	if in.Data != "" {
		return button(s, in)
	}
	if !s.Linked() {
		return unlinked(s, in)
	}
	if cmd := command(in); cmd != "" {
		if cmd == CmdCancel && s.Step == StepMenu {
			return s, []Output{nothingToCancel()}
		}
		return leave(s, in, cmd)
	}
	if in.Contact != nil && s.Step == StepGiftPhone { // a contact card names the recipient
		in.Text = in.Contact.Phone
	}
	if data, waiting := confirmation(s); waiting {
		if yes, ok := answerOf(in.Text); ok { // a typed «да» or «нет» answers as the buttons on screen would
			if !yes {
				return runCommand(s.menu(), in, CmdCancel)
			}
			in.Data = data
			return button(s, in)
		}
	}
	if step, ok := textSteps[s.Step]; ok {
		return step(s, in)
	}
	if code, ok := itemCode(in.Text); ok {
		return s.menu(), []Output{do(Effect{Kind: EffItem, Code: code, Then: showItem})}
	}
	if cmd := intentOf(in.Text); cmd != "" { // everyday phrasing, once no step waits for typing
		if cmd == CmdCancel && s.Step == StepMenu {
			return s, []Output{nothingToCancel()}
		}
		return leave(s, in, cmd)
	}
	if isThanks(in.Text) {
		return s.menu(), []Output{Say(T("thanks.reply")).WithKeyboard(MenuKeyboard)}
	}
	return s.menu(), []Output{Say(T("unknown.hint")).WithKeyboard(MenuKeyboard)}
}

// textSteps handle typed text in the middle of a linked user's dialog.
var textSteps = map[Step]func(State, Input) (State, []Output){
	StepAddPhone:    addPhone,
	StepLinkCode:    linkCode,
	StepGiftPhone:   giftPhone,
	StepGiftAmount:  giftAmount,
	StepGiftConfirm: giftAmount, // a new amount replaces the one waiting for confirmation
}

// leave runs a command that leaves whatever step s is at. A spend waiting for its confirmation is
// dropped, and the user is told so first, unless the command is the cancel that says it anyway.
func leave(s State, in Input, cmd string) (State, []Output) {
	var dropped string
	switch {
	case cmd == CmdCancel:
	case s.Step == StepGiftConfirm:
		dropped = "gift.dropped"
	case s.Step == StepRedeemConfirm:
		dropped = "redeem.dropped"
	}
	next, out := runCommand(s.menu(), in, cmd)
	if dropped != "" {
		out = append([]Output{Say(T(dropped))}, out...)
	}
	return next, out
}

// confirmation is the data of the confirm button a step waits for, made from the State, so the
// button and a typed «да» confirm the same thing.
func confirmation(s State) (string, bool) {
	switch s.Step {
	case StepGiftConfirm:
		return cb(cbGift, s.Points, s.Nonce), true
	case StepRedeemConfirm:
		return cb(cbRedeem, s.Code, s.Points, s.Nonce), true
	case StepUnlinkConfirm:
		return cb(cbUnlink, s.Nonce), true
	}
	return "", false
}

// expired tells the user the dialog timed out and goes back to the menu. A command is still obeyed;
// anything else (including a button of the old dialog) is dropped.
func expired(s State, in Input) (State, []Output) {
	s = s.menu()
	note := Say(T("dialog.expired"))
	if !s.Linked() {
		return unlinked(s, Input{Channel: in.Channel, UserID: in.UserID, At: in.At, Command: CmdStart})
	}
	cmd := command(in)
	if in.Data != "" || cmd == "" || cmd == "?" || cmd == CmdCancel || cmd == CmdMenu || cmd == CmdStart {
		return s, []Output{note.WithKeyboard(MenuKeyboard)}
	}
	s, out := runCommand(s, in, cmd)
	return s, append([]Output{note}, out...)
}

// runCommand starts what a command asks for; it leaves any dialog in progress.
func runCommand(s State, in Input, cmd string) (State, []Output) {
	switch cmd {
	case CmdStart, CmdMenu:
		return s, []Output{Say(T("menu.title")).WithKeyboard(MenuKeyboard)}
	case CmdCancel:
		return s, []Output{Say(T("dialog.cancelled")).WithKeyboard(MenuKeyboard)}
	case CmdBalance:
		return s, []Output{do(Effect{Kind: EffBalance, Then: balanceShow})}
	case CmdForecast:
		return s, []Output{do(Effect{Kind: EffForecast, Then: forecastShow})}
	case CmdCatalog:
		return s, []Output{do(Effect{Kind: EffCatalog, Then: showCategories})}
	case CmdGift:
		return s, []Output{do(Effect{Kind: EffGiftStart, Then: giftStart})}
	case CmdHistory:
		return s, []Output{do(Effect{Kind: EffHistory, Then: showHistory})}
	case CmdLanguage:
		return s, []Output{languageChoice()}
	case CmdSettings:
		return s, []Output{settings()}
	case CmdHelp:
		return s, []Output{Say(T("help.text", "App", in.AppCommand)).WithKeyboard(MenuKeyboard)}
	case CmdSupport:
		return supportEnter(s, in)
	}
	return s, []Output{Say(T("unknown.hint")).WithKeyboard(MenuKeyboard)}
}

// button handles a button press. Navigation is read-only and needs no state; spending buttons are
// checked against the State by their own steps.
func button(s State, in Input) (State, []Output) {
	c, ok := ParseCallback(in.Data)
	if !ok {
		return stale(s)
	}
	if !s.Linked() {
		switch c.Kind {
		case cbResend:
			return resendCode(s, in)
		case cbLanguage, cbLanguages:
		default:
			return unlinked(s, Input{Channel: in.Channel, UserID: in.UserID, At: in.At, Command: CmdStart})
		}
	}
	switch c.Kind {
	case cbCatalog:
		return s, []Output{do(Effect{Kind: EffCatalog, Then: editCategories})}
	case cbCategory:
		return categoryPage(s, c)
	case cbItem:
		return s, []Output{do(Effect{Kind: EffItem, Code: c.Args[0], Then: editItem})}
	case cbItemOnPage:
		return itemOnPage(s, c)
	case cbRedeem:
		return redeemConfirm(s, c)
	case cbGift:
		return giftConfirm(s, c)
	case cbCancel:
		if s.Step == StepMenu { // the prompt's dialog has ended already
			return s, []Output{nothingToCancel()}
		}
		return s.menu(), []Output{Say(T("dialog.cancelled")).WithKeyboard(MenuKeyboard)}
	case cbBalance:
		return s.menu(), []Output{do(Effect{Kind: EffBalance, Then: balanceShow})}
	case cbForecast:
		return s.menu(), []Output{do(Effect{Kind: EffForecast, Then: forecastShow})}
	case cbGiftStart:
		return s.menu(), []Output{do(Effect{Kind: EffGiftStart, Then: giftStart})}
	case cbHistory:
		before, ok := c.int(0)
		if !ok {
			return stale(s)
		}
		return s, []Output{do(Effect{Kind: EffHistory, Before: before, Then: editHistory})}
	case cbHistoryNewer:
		after, ok := c.int(0)
		if !ok {
			return stale(s)
		}
		return s, []Output{do(Effect{Kind: EffHistory, After: after, Then: editHistory})}
	case cbMenu:
		return s.menu(), []Output{Say(T("menu.title")).WithKeyboard(MenuKeyboard)}
	case cbLanguages:
		return s, []Output{languageChoice()}
	case cbLanguage:
		return setLanguage(s, c)
	case cbSettings:
		return s, []Output{settings()}
	case cbAddPhone:
		s = s.menu()
		s.Step = StepAddPhone
		return s, []Output{prompt(T("add.ask"))}
	case cbUnlinkAsk:
		s = s.menu()
		s.Step, s.Nonce = StepUnlinkConfirm, in.Nonce
		yes, _ := confirmation(s)
		return s, []Output{Say(T("unlink.confirm")).WithButtons(Button{T("button.unlink"), yes}, Button{T("button.cancel"), cb(cbCancel)})}
	case cbUnlink:
		if s.Step != StepUnlinkConfirm || c.Args[0] != s.Nonce {
			return stale(s)
		}
		return s.menu(), []Output{do(Effect{Kind: EffUnlink, Then: unlinkDone})}
	case cbResend:
		return resendCode(s, in)
	case cbWarningsAsk:
		return warningsAsk(s)
	case cbWarnings:
		return warningsSet(s, c)
	}
	return stale(s)
}

// nothingToCancel answers a cancel when no dialog is in progress: "cancelled" would be untrue.
func nothingToCancel() Output { return Say(T("dialog.nothing")).WithKeyboard(MenuKeyboard) }

// stale refuses a button that does not belong to the current dialog; nothing changes.
func stale(s State) (State, []Output) {
	t := T("button.stale")
	return s, []Output{{Toast: &t}, Say(T("button.stale")).WithKeyboard(MenuKeyboard)}
}

func toast(id string, kv ...any) Output {
	t := T(id, kv...)
	return Output{Toast: &t}
}
