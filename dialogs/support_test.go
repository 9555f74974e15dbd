package dialogs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// TestSupportModeInTheEngine: support mode lasts SUPPORT_IDLE rather than the dialog TTL; the Engine
// recognises the exact menu labels; a channel the relay does not serve gets today's text.
func TestSupportModeInTheEngine(t *testing.T) {
	t.Parallel()
	clock := ledgertest.NewClock(start)
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	sms := &dialogstest.SMS{}
	hours, err := dialogs.ParseHours("09:00-21:00")
	if err != nil {
		t.Fatal(err)
	}
	e := dialogs.NewEngine(store, store, sms, texts, rdb, slog.New(slog.NewTextHandler(tWriter{t}, nil)), dialogs.Options{
		Prefix: prefix, Location: ledgertest.Moscow, Now: clock.Now, DialogTTL: 15 * time.Minute,
		Support: dialogs.SupportOptions{Channels: []string{"telegram"}, Hours: hours, Idle: 24 * time.Hour}})
	b := &bundle{store: store, engine: e, clock: clock, sms: sms, texts: texts}
	b.member(t, "+79161234567", 100)
	u := b.user(t, 300)
	u.link("+79161234567")

	want(t, u.say("💬 Поддержка"), "support.entered")
	relayed := func(r dialogs.Reply, msg int) bool {
		for _, o := range r.Outputs {
			if o.Relay != nil && o.Relay.MessageID == msg {
				return true
			}
		}
		return false
	}
	if r := u.send(dialogs.Input{Text: "баланс", MessageID: 11}); !relayed(r, 11) {
		t.Errorf("a typed «баланс» in support mode = %v, want it relayed", ids(r))
	}
	want(t, u.say("💰 Баланс"), "balance.text") // the exact label is the bot's
	clock.Add(5 * time.Hour)                   // far beyond the dialog TTL
	if r := u.send(dialogs.Input{Text: "вы тут?", MessageID: 12}); !relayed(r, 12) {
		t.Errorf("a message 5 h later = %v, want it relayed: support mode outlives the dialog TTL", ids(r))
	}
	clock.Add(6 * time.Hour) // 22:00 Moscow: agents are off duty
	r := u.send(dialogs.Input{Text: "ау", MessageID: 13})
	if !relayed(r, 13) {
		t.Errorf("a message after hours = %v, want it relayed all the same", ids(r))
	}
	if o := want(t, r, "support.after_hours"); o.Lines[0].Args["Tomorrow"] != true {
		t.Errorf("after-hours note = %+v, want tomorrow after 09:00", o.Lines[0])
	}
	want(t, u.cmd("cancel"), "support.left")
	want(t, u.say("баланс"), "balance.text")

	if _, err := store.Link(context.Background(), ledger.Link{Channel: "console", UserID: 301, ChatID: 301, Phone: "+79161234567"}); err != nil {
		t.Fatal(err)
	}
	r, err = e.Handle(context.Background(), dialogs.Input{Channel: "console", UserID: 301, ChatID: 301, Command: "support"})
	if err != nil {
		t.Fatal(err)
	}
	want(t, r, "support.text")
}
