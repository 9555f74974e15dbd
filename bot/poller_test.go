package bot_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// TestPollerTakeover: the polling replica loses its lease while an update is stuck in its hands;
// another takes over and gets every unconfirmed update again. Nothing is lost, nothing handled twice,
// and the stuck chat keeps its order.
func TestPollerTakeover(t *testing.T) {
	t.Parallel()
	srv := bottest.New(t)
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	handled := &handledLog{times: map[int64]int{}, byChat: map[int64][]string{}, by: map[string]int{}}
	stuck, unstick := make(chan struct{}), make(chan struct{})
	var once sync.Once
	engine := func(replica int) bot.Engine {
		inner := handled.engine(replica)
		return engineFunc(func(ctx context.Context, in dialogs.Input) (dialogs.Reply, error) {
			if in.Text == "stuck" {
				once.Do(func() { close(stuck) })
				<-unstick
			}
			return inner.Handle(ctx, in)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(replica int) {
		b, err := bot.New(ctx, engine(replica), texts, nil, rdb, log, bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix,
			PollTimeout: time.Second, LeaseTTL: 3 * time.Second, ChatBurst: 1000, UserRate: 1000, ShutdownGrace: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := b.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	run(0)
	t.Cleanup(func() { cancel(); wg.Wait() })
	a, c := srv.User(901, "ru"), srv.User(902, "ru")
	a.Say("1")
	a.Say("stuck")
	a.Say("3")
	c.Say("1")
	<-stuck
	if got := srv.Next(t, c.ID).Text; got != "1" {
		t.Fatalf("other chat's reply = %q, want 1", got)
	}
	// The holder's lease lapses (as after a Redis failover); a second replica is waiting for it.
	sum := sha256.Sum256([]byte(srv.Token))
	if err := rdb.Del(ctx, prefix+"bot:lease:"+hex.EncodeToString(sum[:8])).Err(); err != nil {
		t.Fatal(err)
	}
	run(1)
	sent := 1
	for { // until the second replica handles one: it polls, and has taken the stuck chat's updates again
		sent++
		c.Say(fmt.Sprint(sent))
		if got := srv.Next(t, c.ID).Text; got != fmt.Sprint(sent) {
			t.Fatalf("other chat's reply = %q, want %d", got, sent)
		}
		handled.mu.Lock()
		by := handled.by[fmt.Sprint(sent)]
		handled.mu.Unlock()
		if by == 1 {
			break
		}
	}
	close(unstick)
	for _, want := range []string{"1", "stuck", "3"} {
		if got := srv.Next(t, a.ID).Text; got != want {
			t.Fatalf("stuck chat's reply = %q, want %q", got, want)
		}
	}
	cancel()
	wg.Wait()
	handled.mu.Lock()
	defer handled.mu.Unlock()
	for id, n := range handled.times {
		if n != 1 {
			t.Errorf("update %d handled %d times", id, n)
		}
	}
	if want := 3 + sent; len(handled.times) != want {
		t.Errorf("%d updates handled, want %d", len(handled.times), want)
	}
	if q := srv.Queued(); q != 0 {
		t.Errorf("%d updates left unconfirmed after the shutdown, want 0", q)
	}
}

// TestPollerShutdownConfirms: on shutdown the poller confirms what it handled, so a replica that
// polls next gets none of it again; an update given up after the grace period stays unconfirmed.
func TestPollerShutdownConfirms(t *testing.T) {
	t.Parallel()
	srv := bottest.New(t)
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var once sync.Once
	engine := engineFunc(func(ctx context.Context, in dialogs.Input) (dialogs.Reply, error) {
		if in.Text == "slow" {
			once.Do(func() { close(started) })
			<-ctx.Done() // outlives the grace period
			return dialogs.Reply{}, ctx.Err()
		}
		return dialogs.Reply{Lang: "ru", Outputs: []dialogs.Output{dialogs.Say(dialogs.T("echo", "Fallback", in.Text))}}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, engine, texts, nil, rdb, slog.New(slog.DiscardHandler), bot.Options{Token: srv.Token, ServerURL: srv.URL,
		Prefix: prefix, PollTimeout: time.Second, ChatBurst: 1000, UserRate: 1000, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	u, v := srv.User(911, "ru"), srv.User(912, "ru")
	for i := range 5 {
		u.Say(fmt.Sprint(i))
	}
	for i := range 5 {
		if got := srv.Next(t, u.ID).Text; got != fmt.Sprint(i) {
			t.Fatalf("reply %d = %q", i, got)
		}
	}
	v.Say("slow")
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q := srv.Queued(); q != 1 {
		t.Errorf("%d updates unconfirmed after shutdown, want 1: the one given up", q)
	}
}

// TestRunReturnsWhatStoppedPolling: a token Telegram no longer knows (401 to getUpdates) stops
// polling for good, and Run says why.
func TestRunReturnsWhatStoppedPolling(t *testing.T) {
	t.Parallel()
	srv := bottest.New(t)
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(context.Background(), engineFunc(nil), texts, nil, rdb, slog.New(slog.DiscardHandler),
		bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix, PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail("getUpdates", 0, 401, 0, 1000)
	err = b.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("Run with a revoked token = %v, want the 401 that stopped it", err)
	}
}
