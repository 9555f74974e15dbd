package dialogs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

func TestProbeWarningBeforeThePause(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 500)
	u := b.user(t, 401)
	u.link("+79161234567")
	want(t, u.cmd("gift"), "gift.ask_phone")
	for i := range 4 {
		r := u.say(fmt.Sprintf("+7916999000%d", i))
		want(t, r, "gift.not_member")
		warned := slices.Contains(lineIDsOf(r), "gift.probe_warning")
		if warned != (i == 3) {
			t.Errorf("lookup %d: warned = %v, want a warning only before the last allowed lookup", i+1, warned)
		}
	}
	want(t, u.say("+79169990009"), "gift.not_member")
	want(t, u.cmd("gift"), "gift.paused")
}

// A blocked account is told so before any confirmation is offered, for gifts and redeems alike.
func TestBlockedToldBeforeConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	acct := b.member(t, "+79161234567", 5000)
	u := b.user(t, 402)
	u.link("+79161234567")
	if err := b.store.SetBlocked(context.Background(), acct, true); err != nil {
		t.Fatal(err)
	}
	want(t, u.cmd("gift"), "refusal.blocked")
	want(t, u.say("22"), "refusal.blocked")
	r := u.press("1:it:22")
	want(t, r, "refusal.blocked")
	if slices.Contains(lineIDsOf(r), "redeem.confirm") {
		t.Error("a blocked account was offered a confirmation")
	}
}

// lineIDsOf is every line id of every message of r.
func lineIDsOf(r dialogs.Reply) []string {
	var out []string
	for _, o := range r.Outputs {
		for _, l := range o.Lines {
			out = append(out, l.ID)
		}
	}
	return out
}

// Sections come in a deliberate order; a sold-out item is named, not offered; one page has no page
// number; [Отмена] on an item card goes back to the page it was opened from.
func TestCataloguePages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	zero := int64(0)
	if err := b.store.UpsertItems(context.Background(), []ledger.Item{
		{Code: "61", Category: "partners", TitleRU: "Скидка", TitleEN: "Discount", Cost: 100, Active: true},
		{Code: "41", Category: "services", TitleRU: "Чёрный список", TitleEN: "Blacklist", Cost: 30, Active: true},
		{Code: "31", Category: "internet", TitleRU: "100 МБ", TitleEN: "100 MB", Cost: 149, Active: true},
		{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 SMS", Cost: 170, Active: true},
		{Code: "23", Category: "sms", TitleRU: "100 SMS", TitleEN: "100 SMS", Cost: 300, Stock: &zero, Active: true},
	}); err != nil {
		t.Fatal(err)
	}
	b.member(t, "+79161234567", 1000)
	u := b.user(t, 403)
	u.link("+79161234567")
	r := u.cmd("catalog")
	var sections []string
	for _, row := range want(t, r, "catalog.title").Buttons {
		sections = append(sections, row[0].Label.ID)
	}
	if want := []string{"catalog.category.sms", "catalog.category.internet", "catalog.category.services", "catalog.category.partners"}; !slices.Equal(sections, want) {
		t.Errorf("sections %v, want %v", sections, want)
	}
	r = u.press("1:cg:0:0")
	o := want(t, r, "catalog.items")
	if o.Lines[0].Args["Pages"] != int64(1) || len(o.Lines) != 2 || o.Lines[1].ID != "catalog.out_of_stock" || o.Lines[1].Args["Titles"] != "«100 SMS»" {
		t.Errorf("sms page lines = %+v, want one page and «100 SMS» named as sold out", o.Lines)
	}
	for _, row := range o.Buttons {
		if strings.Contains(row[0].Data, ":23:") {
			t.Errorf("the sold-out item is offered: %v", row[0])
		}
	}
	card := u.press(button(t, r, "1:ip:22:0:0"))
	confirm := want(t, card, "redeem.confirm")
	if !confirm.Edit || confirm.Buttons[0][1].Data != "1:cg:0:0" {
		t.Errorf("card = edit %v, buttons %v; want the page edited into the card and [Отмена] back to it", confirm.Edit, confirm.Buttons)
	}
	back := want(t, u.press("1:cg:0:0"), "catalog.items")
	if !back.Edit {
		t.Error("going back to the page is a new message, want an edit")
	}
	want(t, u.press(button(t, card, "1:rc:22:")), "button.stale") // the card left: its confirmation went with it
}

// Each history line names what happened, in the subscriber's words.
func TestHistoryLinesSayWhatHappened(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	b.member(t, "+79161234567", 1000)
	b.member(t, "+79161234501", 10)
	u := b.user(t, 404)
	u.link("+79161234567")
	u.press(button(t, u.say("22"), "1:rc:22:"))
	u.cmd("gift")
	u.say("+79161234501")
	u.press(button(t, u.say("100"), "1:gc:"))
	text := b.texts.Say("ru", want(t, u.cmd("history"), "history.title").Lines)
	for _, line := range []string{"−100 · вы подарили +7 916 123-45-01", "−299 · обмен · «100 SMS»", "+1\u00a0000 · начисление · приглашение друга"} {
		if !strings.Contains(text, line) {
			t.Errorf("history %q lacks %q", text, line)
		}
	}
	v := b.user(t, 405)
	v.link("+79161234501")
	if text := b.texts.Say("ru", want(t, v.cmd("history"), "history.title").Lines); !strings.Contains(text, "+100 · вам подарили") {
		t.Errorf("recipient's history %q lacks the gift", text)
	}
}

// A partner reward's confirmation gives its promo code once and says how to use it; history keeps the code.
func TestPromoCodeAndHowTo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if err := b.store.UpsertItems(ctx, []ledger.Item{{Code: "61", Category: "partners", TitleRU: "Скидка 2\u00a0000\u00a0₽ в Эльдорадо",
		TitleEN: "₽2,000 off at Eldorado", Cost: 1000, Active: true, HowToRU: "Назовите промокод на кассе."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.ImportPromoCodes(ctx, []ledger.PromoCode{{Item: "61", Code: "ELD-1"}}); err != nil {
		t.Fatal(err)
	}
	b.member(t, "+79161234567", 3000)
	u := b.user(t, 406)
	u.link("+79161234567")
	done := b.texts.Say("ru", want(t, u.press(button(t, u.say("61"), "1:rc:61:")), "redeem.done").Lines)
	wantText := "Готово! Вы обменяли 1\u00a0000\u00a0баллов на «Скидка 2\u00a0000\u00a0₽ в Эльдорадо». Осталось 2\u00a0000\u00a0баллов.\n" +
		"Ваш промокод: ELD-1\nКак воспользоваться: Назовите промокод на кассе."
	if done != wantText {
		t.Errorf("confirmation\n%q\nwant\n%q", done, wantText)
	}
	if text := b.texts.Say("ru", want(t, u.cmd("history"), "history.title").Lines); !strings.Contains(text, "обмен · «Скидка 2\u00a0000\u00a0₽ в Эльдорадо» · промокод ELD-1") {
		t.Errorf("history %q lacks the code", text)
	}
	want(t, u.say("61"), "redeem.out_of_stock") // the pool had one code
}

// A typed «да» or «нет» at a confirmation does what its buttons do; other text keeps its meaning.
func TestTypedAnswerToAConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	sender := b.member(t, "+79161234567", 5000)
	recipient := b.member(t, "+79161234568", 1)
	u := b.user(t, 403)
	u.link("+79161234567")

	u.cmd("gift")
	u.say("+79161234568")
	want(t, u.say("100"), "gift.confirm")
	want(t, u.say("Да!"), "gift.done")
	if got := b.balance(t, recipient); got != 101 {
		t.Errorf("recipient has %d after a typed «да», want 101", got)
	}

	want(t, u.say("22"), "redeem.confirm")
	want(t, u.say("нет"), "dialog.cancelled")
	if got := b.balance(t, sender); got != 4900 {
		t.Errorf("sender has %d after «нет» to a redeem, want 4900 (nothing redeemed)", got)
	}
	want(t, u.say("да"), "unknown.hint") // nothing waits for an answer any more

	want(t, u.say("22"), "redeem.confirm")
	want(t, u.say("баланс"), "balance.text") // not an answer: the word keeps its meaning
	want(t, u.say("yes"), "unknown.hint")    // and the confirmation is gone with it
	if got := b.balance(t, sender); got != 4900 {
		t.Errorf("sender has %d, want 4900 (nothing redeemed)", got)
	}
}

// A thank-you gets a kind answer, not «не удалось разобрать».
func TestThanksAnsweredInKind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 10)
	u := b.user(t, 404)
	u.link("+79161234567")
	for _, text := range []string{"Спасибо!", "спасибо большое", "Thanks."} {
		want(t, u.say(text), "thanks.reply")
	}
	want(t, u.say("спасибо, а где каталог?"), "catalog.empty") // a sentence with thanks in it still means what it asks
}

// A command that leaves a confirmation waiting says the spend was dropped; /cancel says it its own way.
func TestLeavingAConfirmationSaysSo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	b.member(t, "+79161234567", 5000)
	b.member(t, "+79161234568", 1)
	u := b.user(t, 405)
	u.link("+79161234567")

	u.cmd("gift")
	u.say("+79161234568")
	want(t, u.say("100"), "gift.confirm")
	r := u.say("баланс")
	if got := ids(r); len(got) < 2 || got[0] != "gift.dropped" || got[1] != "balance.text" {
		t.Errorf("«баланс» at a gift confirmation: %v, want gift.dropped then the balance", got)
	}
	want(t, u.say("22"), "redeem.confirm")
	r = u.say("сколько у меня баллов?")
	if got := ids(r); len(got) < 2 || got[0] != "redeem.dropped" {
		t.Errorf("a question at a redeem confirmation: %v, want redeem.dropped first", got)
	}
	want(t, u.say("22"), "redeem.confirm")
	if got := ids(u.cmd("cancel")); len(got) != 1 || got[0] != "dialog.cancelled" {
		t.Errorf("/cancel at a redeem confirmation: %v, want only dialog.cancelled", got)
	}
	if got := ids(u.cmd("balance")); slices.Contains(got, "redeem.dropped") || slices.Contains(got, "gift.dropped") {
		t.Errorf("/balance from the menu: %v, want no dropped note", got)
	}
}
