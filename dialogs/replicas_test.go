package dialogs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// TestReplicasSeeLinkChangesAtOnce: two Engines on one Redis and one ledger, as two replicas are.
// What one changes about a link (link, language, a blocked chat, unlink) the other sees on the very
// next update, though both keep links in memory.
func TestReplicasSeeLinkChangesAtOnce(t *testing.T) {
	t.Parallel()
	a := setup(t)
	a.member(t, "+79161234567", 500)
	b := *a // the second replica: its own Engine and caches over the same Redis keys and ledger
	b.engine = dialogs.NewEngine(a.store, a.store, a.sms, a.texts, a.rdb, slog.New(slog.NewTextHandler(tWriter{t}, nil)),
		dialogs.Options{Prefix: a.prefix, Location: start.Location(), Now: a.clock.Now})
	onA, onB := a.user(t, 130), b.user(t, 130)

	want(t, onB.cmd("balance"), "link.welcome") // B keeps "not linked"
	onA.link("+79161234567")
	want(t, onB.cmd("balance"), "balance.text")

	want(t, onA.press("1:lang:en"), "language.set")
	if r := onB.cmd("balance"); r.Lang != "en" {
		t.Errorf("B answers in %q after A set English, want en", r.Lang)
	}
	ctx := context.Background()
	v := dialogs.Visitor{Channel: "telegram", UserID: 130, ChatID: 130}
	if err := b.engine.SetLanguage(ctx, v, "ru"); err != nil { // the Mini App on B
		t.Fatal(err)
	}
	if l, err := a.engine.Account(ctx, v); err != nil || l.Language != "ru" {
		t.Errorf("A's link after B's Mini App set Russian = %+v, %v", l, err)
	}

	if err := b.engine.SetActive(ctx, "telegram", 130, false); err != nil { // B met a 403
		t.Fatal(err)
	}
	if l, err := a.engine.Account(ctx, v); err != nil || l.Active {
		t.Errorf("A's link after B marked the chat blocked = %+v, %v; want inactive", l, err)
	}

	r := onB.press("1:ulq")
	want(t, onB.press(button(t, r, "1:ul:")), "unlink.done")
	want(t, onA.cmd("balance"), "link.welcome")
	if _, err := a.engine.Account(ctx, v); !errors.Is(err, ledger.ErrNotLinked) {
		t.Errorf("A's link after B unlinked: %v, want ErrNotLinked", err)
	}
}
