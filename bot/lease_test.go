package bot

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"bonusbot/dialogs/dialogstest"
)

func TestLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := dialogstest.Redis(t)
	log := slog.New(slog.DiscardHandler)
	a := newLease(rdb, prefix+"lease", time.Second, log)
	b := newLease(rdb, prefix+"lease", time.Second, log)

	held, releaseA, err := a.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.try(ctx); ok || err != nil {
		t.Fatalf("second try while held = %v, %v; want false", ok, err)
	}
	// a renews: the key's TTL goes back up while a holds it.
	first, err := rdb.PTTL(ctx, prefix+"lease").Result()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ttl, err := rdb.PTTL(ctx, prefix+"lease").Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl > first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease was not renewed")
		}
		first = min(first, ttl)
		<-time.After(10 * time.Millisecond)
	}
	a.release(ctx) // as if a's lease had lapsed
	if ok, err := b.try(ctx); !ok || err != nil {
		t.Fatalf("try after release = %v, %v; want true", ok, err)
	}
	select { // a's renewer finds the lease taken and ends a's polling context
	case <-held.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a's context still live after losing the lease")
	}
	releaseA() // stops a's renewer; b's lease stays b's
	if ok, err := a.try(ctx); ok || err != nil {
		t.Fatalf("a's try after a's release while b holds = %v, %v; want false", ok, err)
	}
	b.release(ctx)
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	th := newThrottle(1000, 2)
	if d := th.reserve(1); d != 0 {
		t.Fatalf("first message waits %v", d)
	}
	if d := th.reserve(1); d != 0 {
		t.Fatalf("second message (burst 2) waits %v", d)
	}
	if d := th.reserve(1); d <= 0 {
		t.Fatal("third message in a burst of 2 does not wait")
	}
	if d := th.reserve(2); d != 0 {
		t.Fatalf("another chat waits %v", d)
	}
}

func TestInbound(t *testing.T) {
	t.Parallel()
	l := newInbound(3)
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow(1, now); !ok {
			t.Fatalf("message %d of 3 refused", i+1)
		}
	}
	if ok, warn := l.allow(1, now); ok || !warn {
		t.Errorf("4th message = %v, %v; want refused with a warning", ok, warn)
	}
	if ok, warn := l.allow(1, now.Add(time.Second)); ok || warn {
		t.Errorf("5th message = %v, %v; want refused silently", ok, warn)
	}
	if ok, _ := l.allow(2, now); !ok {
		t.Error("another user refused")
	}
	if ok, _ := l.allow(1, now.Add(21*time.Second)); !ok {
		t.Error("a message after the bucket refilled one token (20 s at 3/min) refused")
	}
}
