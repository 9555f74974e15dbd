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

	held, err := a.acquire(ctx)
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
	a.release(ctx)
	if ok, err := b.try(ctx); !ok || err != nil {
		t.Fatalf("try after release = %v, %v; want true", ok, err)
	}
	select { // a's renewer finds the lease taken and ends a's polling context
	case <-held.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a's context still live after losing the lease")
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
