package dialogs

import (
	"errors"
	"strings"

	"bonusbot/ledger"
)

// Linking: no ledger data is shown before the user proves a phone of a member with a one-time code.
// 1. /start (or anything) → greeting + a keyboard button that shares the user's own contact.
// 2. The contact must be the sender's own and not forwarded; then a code goes out by SMS.
// 3. The code links the user (or, from settings, adds a second phone to the linked account).

func unlinked(s State, in Input) (State, []Output) {
	if in.Contact != nil {
		return sharedContact(s, in)
	}
	switch cmd := command(in); cmd {
	case CmdLanguage:
		return s, []Output{languageChoice()}
	case CmdHelp:
		return s, []Output{Say(T("link.help")).WithKeyboard(ContactKeyboard)}
	case CmdSupport:
		if in.Support.On { // the relay needs to know whose account it is
			return s, []Output{Say(T("support.text"), T("support.link_first")).WithKeyboard(ContactKeyboard)}
		}
		return s, []Output{Say(T("support.text"))}
	case CmdCancel, CmdStart:
		return State{Lang: s.Lang}, []Output{Say(T("link.welcome")).WithKeyboard(ContactKeyboard)}
	}
	if s.Step == StepLinkCode {
		return linkCode(s, in)
	}
	return s, []Output{Say(T("link.welcome")).WithKeyboard(ContactKeyboard)}
}

func sharedContact(s State, in Input) (State, []Output) {
	c := in.Contact
	if in.Forwarded || c.UserID != in.UserID {
		return s, []Output{Say(T("link.contact.foreign")).WithKeyboard(ContactKeyboard)}
	}
	phone, err := ledger.ParsePhone(c.Phone)
	if err != nil {
		return s, []Output{Say(T("link.not_member")).WithKeyboard(ContactKeyboard)}
	}
	s = State{Lang: s.Lang, Proving: phone}
	return s, []Output{do(Effect{Kind: EffSendCode, Phone: phone, Then: codeSent})}
}

// addPhone takes a second number for the linked account; it is proven like the first.
func addPhone(s State, in Input) (State, []Output) {
	phone, err := ledger.ParsePhone(in.Text)
	if err != nil {
		return s, []Output{prompt(T("phone.invalid"))}
	}
	if phone == s.Own {
		return s.menu(), []Output{Say(T("add.own")).WithKeyboard(MenuKeyboard)}
	}
	s.Proving, s.Adding = phone, true
	return s, []Output{do(Effect{Kind: EffSendCode, Phone: phone, Then: codeSent})}
}

func resendCode(s State, in Input) (State, []Output) {
	if s.Step != StepLinkCode || s.Proving == "" {
		return stale(s)
	}
	return s, []Output{do(Effect{Kind: EffSendCode, Phone: s.Proving, Then: codeSent})}
}

// codeSent continues EffSendCode.
func codeSent(s State, in Input) (State, []Output) {
	r := in.Result
	kb := homeKeyboard(s)
	switch {
	case r.Err == nil:
		s.Step = StepLinkCode
		return s, []Output{codePrompt(T("code.sent", "Phone", ledger.FormatPhone(s.Proving)))}
	case errors.Is(r.Err, ErrCodeTooSoon): // the last code is still good
		s.Step = StepLinkCode
		return s, []Output{prompt(T("code.too_soon", "Seconds", int64(r.Code.Wait.Seconds()+0.999)))}
	case errors.Is(r.Err, ErrCodeLimit):
		return again(s, prompt(T("code.limit")), kb)
	case errors.Is(r.Err, ErrCodeLocked):
		return s.menu(), []Output{Say(T("code.locked", "Minutes", int64(r.Code.Wait.Minutes()+0.999))).WithKeyboard(kb)}
	case errors.Is(r.Err, ledger.ErrUnknownPhone):
		return s.menu(), []Output{Say(T("link.not_member")).WithKeyboard(kb)}
	case errors.Is(r.Err, ErrSMSFailed):
		if s.Step == StepLinkCode { // the last code may still be good; a resend may work in a while
			return s, []Output{codePrompt(T("code.sms_failed"))}
		}
		return again(s, prompt(T("code.sms_failed")), kb)
	case errors.Is(r.Err, ErrCodePhoneRange):
		return s.menu(), []Output{Say(T("code.phone_range")).WithKeyboard(kb)}
	case errors.Is(r.Err, ledger.ErrPhoneTaken):
		return s.menu(), []Output{Say(T("add.taken")).WithKeyboard(kb)}
	}
	return s.menu(), []Output{internalError(kb)}
}

// again answers a code refusal that leaves the user where they were: a step waiting for typing (a
// number to add, a code) keeps waiting and out carries its way out; the first code, asked for from
// the menu, gets the sentence and the keyboard kb.
func again(s State, out Output, kb Keyboard) (State, []Output) {
	if s.Step == StepAddPhone || s.Step == StepLinkCode {
		return s, []Output{out}
	}
	return s, []Output{Say(out.Lines...).WithKeyboard(kb)}
}

// linkCode takes the code the user typed.
func linkCode(s State, in Input) (State, []Output) {
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(in.Text))
	if len(code) != 6 || strings.IndexFunc(code, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return s, []Output{prompt(T("code.format"))}
	}
	return s, []Output{do(Effect{Kind: EffVerifyCode, Phone: s.Proving, Code: code, Then: codeChecked})}
}

// codeChecked continues EffVerifyCode. On success the Engine has linked the user (or added the phone).
func codeChecked(s State, in Input) (State, []Output) {
	r := in.Result
	switch {
	case r.Err == nil && s.Adding:
		return s.menu(), []Output{Say(T("add.done", "Phone", ledger.FormatPhone(s.Proving))).WithKeyboard(MenuKeyboard)}
	case r.Err == nil:
		return s.menu(), []Output{Say(T("link.done", "Phone", ledger.FormatPhone(s.Proving)), T("menu.title")).WithKeyboard(MenuKeyboard)}
	case errors.Is(r.Err, ErrCodeWrong):
		return s, []Output{prompt(T("code.wrong", "Tries", int64(r.Code.TriesLeft)))}
	case errors.Is(r.Err, ErrCodeExpired):
		return s, []Output{codePrompt(T("code.expired"))}
	case errors.Is(r.Err, ErrCodeLocked):
		return s.menu(), []Output{Say(T("code.locked", "Minutes", int64(r.Code.Wait.Minutes()+0.999))).WithKeyboard(homeKeyboard(s))}
	case errors.Is(r.Err, ledger.ErrPhoneTaken):
		return s.menu(), []Output{Say(T("add.taken")).WithKeyboard(homeKeyboard(s))}
	case errors.Is(r.Err, ledger.ErrUnknownPhone):
		return s.menu(), []Output{Say(T("link.not_member")).WithKeyboard(homeKeyboard(s))}
	}
	return s.menu(), []Output{internalError(homeKeyboard(s))}
}

// homeKeyboard is the keyboard a user returns to: the main menu once linked, before that the button
// that shares their number (the menu would only answer «connect your account first»).
func homeKeyboard(s State) Keyboard {
	if s.Linked() {
		return MenuKeyboard
	}
	return ContactKeyboard
}

// codePrompt asks for the code, with a way to have it sent again and a way out.
func codePrompt(t Text) Output {
	return Say(t).WithButtons(Button{T("button.resend"), cb(cbResend)}, cancelButton())
}

func internalError(kb Keyboard) Output {
	return Say(T("error.internal")).WithKeyboard(kb)
}
