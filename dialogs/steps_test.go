package dialogs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"bonusbot/ledger"
)

var at = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func linked() State { return State{Lang: "ru", Account: 1, Own: "+79161234567"} }

func firstID(outs []Output) string {
	for _, o := range outs {
		if len(o.Lines) > 0 {
			return o.Lines[0].ID
		}
		if o.Do != nil {
			return "do:" + string(o.Do.Kind)
		}
	}
	return ""
}

func TestHandle(t *testing.T) {
	t.Parallel()
	gift := linked()
	gift.Step, gift.Recipient, gift.Until, gift.Have = StepGiftAmount, "+79161234501", at.Add(time.Minute), 2000
	confirm := gift
	confirm.Step, confirm.Points, confirm.Nonce = StepGiftConfirm, 100, "n1"
	stale := confirm
	stale.Until = at.Add(-time.Second)
	tests := []struct {
		name     string
		s        State
		in       Input
		want     string
		wantStep Step
	}{
		{"unlinked start", State{}, Input{Command: "start"}, "link.welcome", StepMenu},
		{"unlinked balance shows nothing", State{}, Input{Text: "баланс"}, "link.welcome", StepMenu},
		{"foreign contact", State{}, Input{UserID: 1, Contact: &Contact{Phone: "+79161234567", UserID: 2}}, "link.contact.foreign", StepMenu},
		{"forwarded own contact", State{}, Input{UserID: 1, Forwarded: true, Contact: &Contact{Phone: "+79161234567", UserID: 1}}, "link.contact.foreign", StepMenu},
		{"own contact sends a code", State{}, Input{UserID: 1, Contact: &Contact{Phone: "+79161234567", UserID: 1}}, "do:send_code", StepMenu},
		{"balance word", linked(), Input{Text: "Проверить баллы"}, "do:balance", StepMenu},
		{"old sms keyword", linked(), Input{Text: "БОНУС"}, "do:balance", StepMenu},
		{"ussd balance", linked(), Input{Text: "*111*455*0#"}, "do:balance", StepMenu},
		{"menu label", linked(), Input{Text: "🔥 Прогноз"}, "do:forecast", StepMenu},
		{"item code", linked(), Input{Text: "22"}, "do:item", StepMenu},
		{"ussd item code", linked(), Input{Text: "*111*455*22#"}, "do:item", StepMenu},
		{"unknown text", linked(), Input{Text: "как дела"}, "unknown.hint", StepMenu},
		{"unknown command", linked(), Input{Command: "foo"}, "unknown.hint", StepMenu},
		{"gift amount", gift, Input{Text: "1 000", Nonce: "n2"}, "gift.confirm", StepGiftConfirm},
		{"gift recipient from a contact card", State{Lang: "ru", Account: 1, Own: "+79161234567", Step: StepGiftPhone, Until: at.Add(time.Minute)},
			Input{Contact: &Contact{Phone: "+7 916 123-45-01", UserID: 77}}, "do:gift_lookup", StepGiftPhone},
		{"gift amount too big", gift, Input{Text: "3001"}, "gift.amount.too_big", StepGiftAmount},
		{"gift amount over balance", gift, Input{Text: "2001"}, "gift.amount.over_balance", StepGiftAmount},
		{"gift amount not a number", gift, Input{Text: "много"}, "gift.amount.invalid", StepGiftAmount},
		{"cancel mid-gift", gift, Input{Command: "cancel"}, "dialog.cancelled", StepMenu},
		{"gift confirm", confirm, Input{Data: "1:gc:100:n1"}, "do:gift", StepMenu},
		{"forged amount", confirm, Input{Data: "1:gc:3000:n1"}, "button.stale", StepGiftConfirm},
		{"forged nonce", confirm, Input{Data: "1:gc:100:n0"}, "button.stale", StepGiftConfirm},
		{"garbage data", confirm, Input{Data: "2:gc:100:n1"}, "button.stale", StepGiftConfirm},
		{"expired dialog", stale, Input{Data: "1:gc:100:n1"}, "dialog.expired", StepMenu},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.At = at
			s, outs := Handle(tt.s, tt.in)
			if got := firstID(outs); got != tt.want || s.Step != tt.wantStep {
				t.Errorf("Handle(%s, %+v) = %s in %q, want %s in %q", tt.s.Step, tt.in, got, s.Step, tt.want, tt.wantStep)
			}
		})
	}
}

func TestRefusalWording(t *testing.T) {
	t.Parallel()
	allowed := time.Date(2026, 3, 14, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		err  error
		want string
	}{
		{ledger.ErrGiftAmount, "gift.amount.range"},
		{&ledger.LimitError{Rule: ledger.ErrGiftDailyLimit, AllowedAt: allowed}, "gift.daily_limit"},
		{&ledger.LimitError{Rule: ledger.ErrGiftMonthlyLimit, AllowedAt: allowed}, "gift.monthly_limit"},
		{ledger.ErrInsufficientPoints, "refusal.insufficient"},
		{ledger.ErrGiftToSelf, "gift.self"},
		{ledger.ErrGiftRecipient, "gift.not_member"},
		{ledger.ErrAccountBlocked, "refusal.blocked"},
		{errors.New("connection reset"), "error.internal"},
	}
	for _, tt := range tests {
		s, outs := giftDone(linked(), Input{Result: &Result{Err: tt.err}})
		if got := firstID(outs); got != tt.want || s.Step != StepMenu {
			t.Errorf("giftDone(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestCallbackData(t *testing.T) {
	t.Parallel()
	for _, data := range []string{cb("rc", "22", int64(299), "abcdef12"), cb("cg", 3, 10), cb("h", int64(1234567890123))} {
		if _, ok := ParseCallback(data); !ok || len(data) > 64 {
			t.Errorf("ParseCallback(%q) refused its own data", data)
		}
	}
	for _, data := range []string{"", "1", "1:zz", "1:rc:22:299", "0:cat", "1:rc:22:2 9:n", "1:cat:extra", "1:it:" + strings.Repeat("9", 70)} {
		if c, ok := ParseCallback(data); ok {
			t.Errorf("ParseCallback(%q) = %+v, want refused", data, c)
		}
	}
}

func TestSuggestion(t *testing.T) {
	t.Parallel()
	zero := int64(0)
	items := []ledger.Item{{Code: "a", Cost: 100}, {Code: "b", Cost: 300}, {Code: "c", Cost: 250, Stock: &zero}, {Code: "d", Cost: 900}}
	for _, tt := range []struct {
		burning, balance int64
		want             string
	}{{350, 1000, "b"}, {50, 1000, "d"}, {50, 60, ""}, {260, 260, "a"}} {
		it, ok := suggestion(items, tt.burning, tt.balance)
		if got := map[bool]string{true: it.Code}[ok]; got != tt.want {
			t.Errorf("suggestion(%d, %d) = %q, want %q", tt.burning, tt.balance, got, tt.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, lang string
		n          int64
		verdict    string
	}{
		{"100", "ru", 100, ""},
		{"100 баллов", "ru", 100, ""},
		{"21 балл", "ru", 21, ""},
		{"2 балла", "ru", 2, ""},
		{"100 б.", "ru", 100, ""},
		{"100б", "ru", 100, ""},
		{"1 000", "ru", 1000, ""},
		{"1\u00a0000", "ru", 1000, ""},
		{"1\u202f000", "ru", 1000, ""},
		{"1,000", "en", 1000, ""},
		{"1,000 points", "en", 1000, ""},
		{" 7 ", "ru", 7, ""},
		{"+5", "ru", 5, ""},
		{"1,000", "ru", 0, "gift.amount.fraction"}, // a Russian comma is a decimal one
		{"1,5", "ru", 0, "gift.amount.fraction"},
		{"10.5", "en", 0, "gift.amount.fraction"},
		{"0", "ru", 0, "gift.amount.not_positive"},
		{"-5", "ru", 0, "gift.amount.not_positive"},
		{"−5", "ru", 0, "gift.amount.not_positive"},
		{"сто", "ru", 0, "gift.amount.invalid"},
		{"100 рублей", "ru", 0, "gift.amount.invalid"},
		{"", "ru", 0, "gift.amount.invalid"},
		{"99999999999", "ru", 1_000_000_000, ""}, // too big, said as such by the step
	}
	for _, tt := range tests {
		if n, v := parseAmount(tt.text, tt.lang); n != tt.n || v != tt.verdict {
			t.Errorf("parseAmount(%q, %s) = %d, %q; want %d, %q", tt.text, tt.lang, n, v, tt.n, tt.verdict)
		}
	}
}

// The amount step states the real range, and every answer keeps it and the way out.
func TestGiftAmountStatesTheRealRange(t *testing.T) {
	t.Parallel()
	s := linked()
	s.Step, s.Recipient, s.Until, s.Have = StepGiftAmount, "+79161234501", at.Add(time.Minute), 2776
	for text, id := range map[string]string{"abc": "gift.amount.invalid", "0": "gift.amount.not_positive", "1,5": "gift.amount.fraction",
		"3001": "gift.amount.too_big", "2777": "gift.amount.over_balance"} {
		_, out := Handle(s, Input{Text: text, At: at})
		o := out[0]
		if o.Lines[0].ID != id || o.Lines[0].Args["Max"] != int64(2776) {
			t.Errorf("%q: %s %v, want %s with Max 2776", text, o.Lines[0].ID, o.Lines[0].Args, id)
		}
		if len(o.Buttons) != 1 || o.Buttons[0][0].Data != cb(cbCancel) {
			t.Errorf("%q: buttons %v, want [Отмена]", text, o.Buttons)
		}
	}
	s.Have = 50_000
	_, out := Handle(s, Input{Text: "5000", At: at})
	if l := out[0].Lines[0]; l.Args["Max"] != int64(3000) || l.Args["Cap"] != int64(3000) {
		t.Errorf("over the cap: %v, want Max and Cap 3000", l.Args)
	}
	_, out = Handle(s, Input{Text: "100 баллов", At: at, Nonce: "n"})
	if l := out[0].Lines[0]; l.ID != "gift.confirm" || l.Args["Phone"] != "+7 916 123-45-01" {
		t.Errorf("confirmation %s %v, want the recipient's number in full", l.ID, l.Args)
	}
}

// «Отменено» only when something was in progress.
func TestCancelOnlyWhatIsInProgress(t *testing.T) {
	t.Parallel()
	s := linked()
	if _, out := Handle(s, Input{Command: CmdCancel, At: at}); out[0].Lines[0].ID != "dialog.nothing" {
		t.Errorf("/cancel at the menu = %s", out[0].Lines[0].ID)
	}
	if _, out := Handle(s, Input{Data: cb(cbCancel), At: at}); out[0].Lines[0].ID != "dialog.nothing" {
		t.Errorf("[Отмена] after the dialog ended = %s", out[0].Lines[0].ID)
	}
	s.Step, s.Until = StepGiftPhone, at.Add(time.Minute)
	if s2, out := Handle(s, Input{Data: cb(cbCancel), At: at}); out[0].Lines[0].ID != "dialog.cancelled" || s2.Step != StepMenu {
		t.Errorf("[Отмена] during a gift = %s in %q", out[0].Lines[0].ID, s2.Step)
	}
}

// A message cannot carry inline buttons and a keyboard change: the builders refuse it.
func TestButtonsAndKeyboardExclusive(t *testing.T) {
	t.Parallel()
	for name, build := range map[string]func(){
		"buttons then keyboard": func() { Say(T("x")).WithButtons(cancelButton()).WithKeyboard(MenuKeyboard) },
		"keyboard then buttons": func() { Say(T("x")).WithKeyboard(MenuKeyboard).WithButtons(cancelButton()) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			build()
		}()
	}
}

// /help lists every command, /app only where the channel offers it, and says item and USSD codes work.
func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	for _, app := range []bool{false, true} {
		_, out := Handle(linked(), Input{Command: CmdHelp, At: at, AppCommand: app})
		if l := out[0].Lines[0]; l.ID != "help.text" || l.Args["App"] != app {
			t.Errorf("help with app %v = %s %v", app, l.ID, l.Args)
		}
	}
}
