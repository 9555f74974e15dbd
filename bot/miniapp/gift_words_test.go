package miniapp

import (
	"fmt"
	"strings"
	"testing"

	"bonusbot/dialogs"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// The page's gift says what the chat says: the amount as typed («100 баллов», "1,000" in English),
// a separate answer for a fraction, zero, words and too much, each with the real range (the smaller
// of the balance and 3 000), and the warning before the last lookup of a number that cannot take a gift.
func TestGiftCheckSaysWhatTheChatSays(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{Rate: 1000})
	f.member(t, 501, "+79160000001", 500)
	f.member(t, 502, "+79160000002", 5)
	texts, err := locales.New(ledgertest.Moscow, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	say := func(id string, kv ...any) string {
		return texts.Render("ru", dialogs.T(id, append(kv, "Max", int64(500))...))
	}
	auth := f.tma(501)
	tests := []struct {
		points any
		status int
		code   string
		want   string // the message, or the points of a plan
	}{
		{"1,5", 422, "invalid_amount", say("gift.amount.fraction")},
		{1.5, 422, "invalid_amount", say("gift.amount.fraction")},
		{0, 422, "invalid_amount", say("gift.amount.not_positive")},
		{"сто", 422, "invalid_amount", say("gift.amount.invalid")},
		{3001, 422, "invalid_amount", say("gift.amount.too_big", "Cap", int64(3000))},
		{501, 409, "insufficient_points", say("gift.amount.over_balance", "Have", int64(500))},
		{"100 баллов", 200, "", "100"},
		{"1\u00a0000", 409, "insufficient_points", say("gift.amount.over_balance", "Have", int64(500))},
		{120, 200, "", "120"},
	}
	for _, tt := range tests {
		r := f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79160000002", "points": tt.points})
		got := r.str("message")
		if tt.status == 200 {
			got = fmt.Sprint(r.num("points"))
		}
		if r.status != tt.status || r.str("error") != tt.code || got != tt.want {
			t.Errorf("gift/check %#v = %d %s, want %d %q %q", tt.points, r.status, r.raw, tt.status, tt.code, tt.want)
		}
	}
	warning := texts.Render("ru", dialogs.T("gift.probe_warning"))
	for i := range 4 {
		r := f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": fmt.Sprintf("+7916999999%d", i), "points": 1})
		r.want(t, 422, "unknown_recipient")
		if warned := strings.Contains(r.str("message"), warning); warned != (i == 3) {
			t.Errorf("lookup %d: %q, want the warning only before the last allowed lookup", i+1, r.str("message"))
		}
	}
}
