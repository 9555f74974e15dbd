package dialogs_test

import (
	"context"
	"testing"
	"time"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// TestWarningsSwitch: settings show the expiry warnings switch; it turns them off and on for the
// account, and the button on a warning turns them off too.
func TestWarningsSwitch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.member(t, "+79161234567", 500)
	u := b.user(t, 100)
	u.link("+79161234567")
	on := func() bool {
		t.Helper()
		v, err := b.store.WarningsOn(context.Background(), acct)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	r := u.press(button(t, u.cmd("settings"), "1:wq"))
	if o := want(t, r, "warnings.on"); !o.Edit {
		t.Error("the switch should replace the settings message")
	}
	want(t, u.press(button(t, r, "1:ws:off")), "warnings.turned_off")
	if on() {
		t.Error("warnings still on after turning them off")
	}
	r = u.press("1:wq")
	want(t, r, "warnings.off")
	want(t, u.press(button(t, r, "1:ws:on")), "warnings.turned_on")
	if !on() {
		t.Error("warnings still off after turning them on")
	}
	want(t, u.press(button(t, dialogs.Reply{Outputs: []dialogs.Output{dialogs.ExpiryWarning(ledger.WarningNotice{})}}, "1:ws:off")), "warnings.turned_off")
	if on() {
		t.Error("the warning's own button did not turn warnings off")
	}
	want(t, u.press("1:ws:maybe"), "button.stale")
}

// TestExpiryWarningWords renders both kinds of warning and their SMS, ru and en.
func TestExpiryWarningWords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	weekly := ledger.WarningNotice{Warning: ledger.Warning{Kind: ledger.WarnWeekly}, Today: day(14), Soon: 1261,
		Nearest: ledger.Burn{On: day(16), Points: 21}}
	before := ledger.WarningNotice{Warning: ledger.Warning{Kind: ledger.WarnWeekBefore, BurnOn: day(21)}, Today: day(14), Soon: 300, Burn: 200}
	tests := []struct {
		lang string
		text dialogs.Text
		want string
	}{
		{"ru", dialogs.ExpiryWarning(weekly).Lines[0], "Скоро сгорание: 1\u00a0261\u00a0балл в ближайшие 30 дней. Ближайшее — 16\u00a0марта: 21\u00a0балл. Обменяйте баллы на вознаграждение или подарите их."},
		{"ru", dialogs.ExpiryWarning(before).Lines[0], "Через 7\u00a0дней, 21\u00a0марта, сгорание: 200\u00a0баллов. Всего за 30 дней — 300\u00a0баллов. Успейте обменять баллы на вознаграждение или подарить их."},
		{"en", dialogs.ExpiryWarning(before).Lines[0], "Expiring on 21\u00a0March, in 7\u00a0days: 200\u00a0points. 300\u00a0points in all over the next 30 days. Redeem or gift them before then."},
		{"ru", dialogs.ExpiryWarningSMS(weekly), "Бонусная программа: ближайшее сгорание — 16\u00a0марта, 21\u00a0балл. Обменять или подарить баллы можно в боте программы."},
		{"ru", dialogs.ExpiryWarningSMS(before), "Бонусная программа: ближайшее сгорание — 21\u00a0марта, 200\u00a0баллов. Обменять или подарить баллы можно в боте программы."},
	}
	for _, tt := range tests {
		if got := b.texts.Render(tt.lang, tt.text); got != tt.want {
			t.Errorf("Render(%s, %s) =\n%q, want\n%q", tt.lang, tt.text.ID, got, tt.want)
		}
	}
	before.Soon = 200 // nothing else burns within 30 days: no total
	if got := b.texts.Render("ru", dialogs.ExpiryWarning(before).Lines[0]); got != "Через 7\u00a0дней, 21\u00a0марта, сгорание: 200\u00a0баллов. Успейте обменять баллы на вознаграждение или подарить их." {
		t.Errorf("week-before warning without more = %q", got)
	}
}
