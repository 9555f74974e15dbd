package dialogs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"bonusbot/ledger"
)

// waitsForTyping are the steps that take the next text as their answer.
var waitsForTyping = map[Step]bool{StepLinkCode: true, StepAddPhone: true, StepGiftPhone: true, StepGiftAmount: true}

func hasCancel(o Output) bool {
	for _, row := range o.Buttons {
		for _, b := range row {
			if b.Data == cb(cbCancel) {
				return true
			}
		}
	}
	return false
}

// Every answer to a code request either keeps its step waiting for typing and shows [Отмена], or ends
// the step (and may then restore the keyboard): never a step still waiting behind a message with no
// way out, as «Слишком много запросов кода. Попробуйте позже.» was while "add a number" still took
// the next text as a number.
func TestCodeAnswersKeepAWayOut(t *testing.T) {
	t.Parallel()
	adding := linked()
	adding.Step, adding.Proving, adding.Adding = StepAddPhone, "+79161234501", true
	states := map[string]State{
		"adding a number":   adding,
		"resending a code":  {Lang: "ru", Step: StepLinkCode, Proving: "+79161234567"},
		"first code":        {Lang: "ru", Proving: "+79161234567"},
		"linked, resending": {Lang: "ru", Account: 1, Own: "+79161234567", Step: StepLinkCode, Proving: "+79161234501", Adding: true},
	}
	errs := []error{nil, ErrCodeTooSoon, ErrCodeLimit, ErrCodeLocked, ledger.ErrUnknownPhone, ErrSMSFailed, ErrCodePhoneRange,
		ledger.ErrPhoneTaken, errors.New("connection reset")}
	for name, s := range states {
		for _, err := range errs {
			t.Run(fmt.Sprint(name, "/", err), func(t *testing.T) {
				t.Parallel()
				s2, outs := codeSent(s, Input{At: at, Result: &Result{Err: err}})
				last := outs[len(outs)-1]
				if waitsForTyping[s2.Step] != hasCancel(last) {
					t.Errorf("codeSent(%s, %v) = step %q with %s and buttons %v: a step waiting for typing needs [Отмена], an ended one none",
						s.Step, err, s2.Step, last.Lines[0].ID, last.Buttons)
				}
			})
		}
	}
}

// The keyboard a code answer restores fits who the user is then: the main menu only for a linked
// user (an unlinked one cannot use it), the share-contact button only for an unlinked one.
func TestCodeAnswersRestoreTheRightKeyboard(t *testing.T) {
	t.Parallel()
	states := map[string]State{
		"adding a number": {Lang: "ru", Account: 1, Own: "+79161234567", Step: StepLinkCode, Proving: "+79161234501", Adding: true},
		"linking":         {Lang: "ru", Step: StepLinkCode, Proving: "+79161234567"},
	}
	errs := []error{nil, ErrCodeWrong, ErrCodeExpired, ErrCodeLocked, ledger.ErrPhoneTaken, ledger.ErrUnknownPhone, errors.New("connection reset")}
	for name, s := range states {
		for _, err := range errs {
			s2, outs := codeChecked(s, Input{At: at, Result: &Result{Err: err}})
			if err == nil && !s.Adding {
				s2.Account = 1 // the Engine linked the user
			}
			last := outs[len(outs)-1]
			if last.Keyboard == MenuKeyboard && !s2.Linked() || last.Keyboard == ContactKeyboard && s2.Linked() {
				t.Errorf("%s: codeChecked(%v) = %s with keyboard %d for a user linked=%v", name, err, last.Lines[0].ID, last.Keyboard, s2.Linked())
			}
		}
	}
}

// An amount typed with its unit is the amount, not a command: "100 points" once ran /balance (the
// word after the digits was taken for the menu's "points"), so the English forms the amount step
// accepts never reached it.
func TestAmountWithItsUnitIsNotACommand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lang, text string
		want       int64
	}{{"en", "100 points", 100}, {"en", "1,000 points", 1000}, {"ru", "100 баллы", 100}, {"ru", "50 бонус", 0}} {
		s := linked()
		s.Lang, s.Step, s.Recipient, s.Until, s.Have = tt.lang, StepGiftAmount, "+79161234501", at.Add(time.Minute), 2000
		_, outs := Handle(s, Input{Text: tt.text, At: at, Nonce: "n"})
		got := firstID(outs)
		if tt.want > 0 && (got != "gift.confirm" || outs[0].Lines[0].Args["Points"] != tt.want) || tt.want == 0 && got != "gift.amount.invalid" {
			t.Errorf("Handle(gift amount, %q) = %s %v, want the amount %d read", tt.text, got, outs, tt.want)
		}
	}
}
