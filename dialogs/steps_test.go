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
		{"gift amount too big", gift, Input{Text: "3001"}, "gift.amount.range", StepGiftAmount},
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
