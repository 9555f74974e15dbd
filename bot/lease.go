package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// lease is a Redis lock with an owner and a TTL, renewed while held: only its holder polls Telegram
// (two pollers of one token get 409 Conflict from getUpdates), or, in webhook mode, registers the
// webhook. A holder that dies frees it within TTL.
type lease struct {
	rdb   redis.UniversalClient
	key   string
	owner string
	ttl   time.Duration
	log   *slog.Logger
}

func newLease(rdb redis.UniversalClient, key string, ttl time.Duration, log *slog.Logger) *lease {
	var b [8]byte
	rand.Read(b[:])
	return &lease{rdb: rdb, key: key, owner: hex.EncodeToString(b[:]), ttl: ttl, log: log}
}

// renewScript extends the lease only if we still own it.
var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// acquire waits until the lease is ours and returns a context that ends when ctx does or the lease is
// lost, and release, which stops renewing, gives the lease up if it is still ours and returns once the
// renewer has stopped. The error is ctx's, when it ended first.
func (l *lease) acquire(ctx context.Context) (held context.Context, release func(), err error) {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	waiting := false
	for {
		ok, err := l.try(ctx)
		if err == nil && ok {
			break
		}
		if err != nil && ctx.Err() == nil {
			l.log.Warn("telegram lease: redis", "err", err)
		}
		if !waiting && err == nil {
			l.log.Info("another replica holds this bot's lease; waiting for it")
			waiting = true
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-tick.C:
		}
	}
	held, lost := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // renew at a third of the TTL; give up (and end held) once it is not ours
		defer close(done)
		defer lost()
		tick := time.NewTicker(l.ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-held.Done():
				return
			case <-tick.C:
			}
			n, err := renewScript.Run(held, l.rdb, []string{l.key}, l.owner, l.ttl.Milliseconds()).Int()
			if err != nil && held.Err() == nil {
				l.log.Warn("telegram lease: renew", "err", err)
				continue // Redis hiccup: the lease may still be ours; the next tick tells
			}
			if n == 0 {
				return
			}
		}
	}()
	return held, func() {
		lost()
		<-done
		l.release(context.WithoutCancel(ctx))
	}, nil
}

// try takes the lease if it is free.
func (l *lease) try(ctx context.Context) (bool, error) {
	return l.rdb.SetNX(ctx, l.key, l.owner, l.ttl).Result()
}

func (l *lease) release(ctx context.Context) {
	if err := releaseScript.Run(ctx, l.rdb, []string{l.key}, l.owner).Err(); err != nil {
		l.log.Warn("telegram lease: release", "err", err)
	}
}
