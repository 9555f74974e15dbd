package bot

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs/dialogstest"
)

// Two replicas share the bot's limits: whatever one sends counts against the other.
func TestOutboundLimitsHoldAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := dialogstest.Redis(t)
	log := slog.New(slog.DiscardHandler)
	keys := prefix + "out:{bot}:"
	a, b := newOutbound(rdb, keys, 3, 2, log), newOutbound(rdb, keys, 3, 2, log)
	a.global.interval, b.global.interval = time.Hour, time.Hour // three a second, as if the second never ended
	reserve := func(o *outbound, chat int64) time.Duration {
		t.Helper()
		d, err := o.reserve(ctx, chat)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := reserve(a, 1); d != 0 {
		t.Fatalf("first message to chat 1 waits %v", d)
	}
	if d := reserve(b, 1); d != 0 {
		t.Fatalf("second message to chat 1 (burst 2), from the other replica, waits %v", d)
	}
	if d := reserve(a, 1); d <= 0 {
		t.Error("third message to chat 1 in a burst of 2 does not wait")
	}
	if d := reserve(b, 2); d != 0 {
		t.Fatalf("a message to chat 2 waits %v", d)
	}
	if d := reserve(a, 3); d <= 0 { // three already, from two replicas
		t.Error("a fourth message over the bot's burst of 3 does not wait")
	}
	b.pause(ctx, time.Hour) // a 429 on one replica
	if d := reserve(a, 4); d < 59*time.Minute {
		t.Errorf("after the other replica's 429 with retry_after 1h, a message waits %v", d)
	}
}

// Without Redis the limits fall back to the replica's own: messages still go.
func TestOutboundWithoutRedis(t *testing.T) {
	t.Parallel()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	o := newOutbound(dead, "out:{bot}:", 30, 3, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		if err := o.wait(ctx, 1); err != nil {
			t.Fatalf("wait without Redis: %v", err)
		}
	}
}

// The per-user inbound limit holds however a user's updates spread over replicas.
func TestUserLimitAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := dialogstest.Redis(t)
	a, b := newUserLimit(rdb, prefix+"in:", 3), newUserLimit(rdb, prefix+"in:", 3)
	now := time.Now()
	for i, l := range []*userLimit{a, b, a} {
		if ok, _, err := l.allow(ctx, 7, now); !ok || err != nil {
			t.Fatalf("message %d of 3 = %v, %v", i+1, ok, err)
		}
	}
	if ok, warn, err := b.allow(ctx, 7, now); ok || !warn || err != nil {
		t.Errorf("4th message = %v, %v, %v; want refused with a warning", ok, warn, err)
	}
	if ok, warn, err := a.allow(ctx, 7, now); ok || warn || err != nil {
		t.Errorf("5th message = %v, %v, %v; want refused silently", ok, warn, err)
	}
	if ok, _, _ := a.allow(ctx, 8, now); !ok {
		t.Error("another user refused")
	}
}

// The group window holds for every replica: n posts in any period, the next waits for the oldest.
func TestGroupWindowAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := dialogstest.Redis(t)
	log := slog.New(slog.DiscardHandler)
	replica := func() *Bot {
		return &Bot{rdb: rdb, out: newOutbound(rdb, prefix+"out:{bot}:", 30, 3, log)}
	}
	a, b := replica(), replica()
	const group = -100123
	for i := range 4 {
		r := a
		if i%2 == 1 {
			r = b
		}
		if d, err := r.ReserveGroupPost(ctx, group, 4, time.Hour); err != nil || d != 0 {
			t.Fatalf("post %d of 4 an hour waits %v (%v), want 0", i+1, d, err)
		}
	}
	for _, r := range []*Bot{a, b} {
		if d, err := r.ReserveGroupPost(ctx, group, 4, time.Hour); err != nil || d < 59*time.Minute || d > time.Hour {
			t.Errorf("the fifth post waits %v (%v), want about an hour, from either replica", d, err)
		}
	}
	if d, err := a.ReserveGroupPost(ctx, group-1, 4, time.Hour); err != nil || d != 0 {
		t.Errorf("a post into another group waits %v (%v), want 0", d, err)
	}
}
