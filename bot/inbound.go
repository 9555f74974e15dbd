package bot

import (
	"sync"
	"time"
)

// inbound is the per-user inbound limit: UserRate messages a minute (a bucket of that size refilled
// evenly). It lives in this process: the lease makes it the only one reading this token's updates,
// so there is no Redis round trip on every update.
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
