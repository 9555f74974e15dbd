package bot_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// TestBotOnARedisCluster runs the bot on a real three-master Redis Cluster: the poller's lease, update
// claims and their renewal, the inbound limit, the outbound script (the bot's, the chat's and the
// pause's keys in one hash slot) and a 429's pause, with the dialogs' own keys beside them.
func TestBotOnARedisCluster(t *testing.T) {
	t.Parallel()
	rdb, prefix := dialogstest.Cluster(t)
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(crossSlot{t}, nil))
	sms := &dialogstest.SMS{}
	engine := dialogs.NewEngine(store, store, sms, texts, rdb, log, dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow, Now: clock.Now})
	srv := bottest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, engine, texts, engine, rdb, log, bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix,
		PollTimeout: 2 * time.Second, LeaseTTL: 3 * time.Second, ClaimTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	bundle := &bundle{srv: srv, store: store, clock: clock, sms: sms, bot: b}
	bundle.member(t, "+79161234567", 1261)
	u := srv.User(520, "ru")
	link(t, bundle, u, "+79161234567")
	srv.Fail("sendMessage", u.ID, 429, 1, 1) // a 429 pauses sending through Redis
	u.Say("/balance")
	expect(t, bundle, u, "У вас 1\u00a0261\u00a0балл.")
	if err := b.Notify(context.Background(), u.ID, "notice"); err != nil {
		t.Fatal(err)
	}
	expect(t, bundle, u, "notice")
}

// crossSlot logs to t and fails it on any sign of a command that spanned hash slots (or fell back to
// a replica's own limits because of one).
type crossSlot struct{ t *testing.T }

func (w crossSlot) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	w.t.Log(line)
	if strings.Contains(line, "CROSSSLOT") || strings.Contains(line, "redis unavailable") || strings.Contains(line, "claim: redis") {
		w.t.Errorf("on a Redis Cluster: %s", line)
	}
	return len(p), nil
}
