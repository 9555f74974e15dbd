package dialogs_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// TestOnARedisCluster runs every Redis operation of the dialogs on a real three-master Redis Cluster:
// a MULTI or a multi-key command whose keys fell into two hash slots would fail here with CROSSSLOT.
func TestOnARedisCluster(t *testing.T) {
	t.Parallel()
	rdb, prefix := dialogstest.Cluster(t)
	clock := ledgertest.NewClock(start)
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	sms := &dialogstest.SMS{}
	e := dialogs.NewEngine(store, store, sms, texts, rdb, slog.New(slog.NewTextHandler(tWriter{t}, nil)),
		dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow, Now: clock.Now})
	b := &bundle{store: store, engine: e, clock: clock, sms: sms, texts: texts, prefix: prefix}
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	b.catalog(t)

	// Linking: a code (the phone's code, resend and day keys in one MULTI), a wrong try (the code's
	// tries and the user's wrong count), then the right code; the dialog state in between.
	u := b.user(t, 120)
	want(t, u.cmd("start"), "link.welcome")
	want(t, u.send(share("+79161234567", 120)), "code.sent")
	code := b.sms.LastCode("+79161234567")
	want(t, u.say(fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)), "code.wrong")
	want(t, u.say(code), "link.done")

	// A code that dies of wrong tries: the owner's lockout and the code's removal in one MULTI.
	v := b.user(t, 121)
	want(t, v.send(share("+79161234501", 121)), "code.sent")
	wrong := fmt.Sprintf("%06d", (atoi(b.sms.LastCode("+79161234501"))+1)%1_000_000)
	for range 4 {
		want(t, v.say(wrong), "code.wrong")
	}
	want(t, v.say(wrong), "code.locked")

	// A new number for the account: the user's new-number count beside the phone's keys; an SMS
	// that fails removes the code and its resend mark together.
	want(t, u.press("1:add"), "add.ask")
	sms.Fail(true)
	want(t, u.say("+79161234599"), "code.sms_failed")
	sms.Fail(false)
	want(t, u.say("+79161234599"), "code.sent")
	want(t, u.say(b.sms.LastCode("+79161234599")), "add.done")

	// Gift probing, a redeem's confirmation state, the language and the link cache.
	want(t, u.cmd("gift"), "gift.ask_phone")
	want(t, u.say("+79160000000"), "gift.not_member")
	want(t, u.say("+79161234501"), "gift.ask_amount")
	want(t, u.cmd("cancel"), "dialog.cancelled")
	r := u.say("22")
	want(t, r, "redeem.confirm")
	want(t, u.press(button(t, r, "1:rc:22:")), "redeem.done")
	want(t, u.press("1:lang:en"), "language.set")
	want(t, u.cmd("balance"), "balance.text")

	// The Mini App's way in: a code for a visitor and its confirmation.
	vis := dialogs.Visitor{Channel: "vk", UserID: 7, ChatID: 7, LangCode: "ru"}
	ctx := context.Background()
	clock.Add(16 * 60 * 1e9) // past v's lockout and the resend pause
	if err := e.StartLink(ctx, vis, "+79161234501"); err != nil {
		t.Fatalf("StartLink: %v", err)
	}
	if _, err := e.ConfirmLink(ctx, vis, b.sms.LastCode("+79161234501")); err != nil {
		t.Fatalf("ConfirmLink: %v", err)
	}
}
