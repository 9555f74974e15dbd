package bot

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// userLimit is the per-user inbound limit (BOT_USER_RATE): UserRate messages a minute, a bucket of
// that size refilled evenly, counted in Redis so that it holds however the updates of one user spread
// over the replicas. The first message over it in a minute gets one "slow down"; the rest are dropped.
// Without Redis each replica counts alone (inbound), so nobody is refused for Redis's sake.
type userLimit struct {
	rdb     redis.UniversalClient
	limiter *redis_rate.Limiter
	keys    string
	limit   redis_rate.Limit
	local   *inbound
}

func newUserLimit(rdb redis.UniversalClient, keys string, perMinute int) *userLimit {
	return &userLimit{rdb: rdb, limiter: redis_rate.NewLimiter(rdb), keys: keys, limit: redis_rate.PerMinute(perMinute),
		local: newInbound(perMinute)}
}

// allow takes one message of user's; warn says whether this refusal is the one that gets "slow down".
// err is Redis's, when the answer came from this replica's own count.
func (l *userLimit) allow(ctx context.Context, user int64, now time.Time) (ok, warn bool, err error) {
	key := l.keys + itoa(user)
	res, err := l.limiter.Allow(ctx, key, l.limit)
	if err != nil {
		ok, warn = l.local.allow(user, now)
		return ok, warn, err
	}
	if res.Allowed > 0 {
		return true, false, nil
	}
	first, err := l.rdb.SetNX(ctx, key+":warned", 1, time.Minute).Result()
	return false, first, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// inbound is the same limit counted in this process, for when Redis is down.
type inbound struct {
	mu    sync.Mutex
	users map[int64]*inboundUser
	rate  float64 // a minute
}

type inboundUser struct {
	bucket
	warned time.Time // when the user was last told to slow down
}

func newInbound(perMinute int) *inbound {
	return &inbound{users: map[int64]*inboundUser{}, rate: float64(perMinute)}
}

// allow takes one message of user's; when it is over the limit, warn says whether this is the first
// refusal in a minute (the one that gets "slow down").
func (l *inbound) allow(user int64, now time.Time) (ok, warn bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, found := l.users[user]
	if !found {
		if len(l.users) > 100_000 { // forget users whose bucket has refilled
			for id, v := range l.users {
				if v.tokens+now.Sub(v.last).Minutes()*l.rate >= l.rate {
					delete(l.users, id)
				}
			}
		}
		u = &inboundUser{bucket: bucket{tokens: l.rate, last: now}}
		l.users[user] = u
	}
	if _, ok := u.take(now, l.rate/60, l.rate); ok {
		u.tokens--
		return true, false
	}
	if now.Sub(u.warned) >= time.Minute {
		u.warned = now
		return false, true
	}
	return false, false
}
