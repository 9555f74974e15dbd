package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// claims make an update handled once, whichever replica gets it and however often Telegram delivers
// it (it resends on a timeout or a non-2xx answer, and a poller that takes over gets again what its
// predecessor had not confirmed). Before handling, a replica claims the update_id in Redis (SET NX
// with ClaimTTL, renewed while it works); after, it marks it done (kept DoneTTL). A delivery that finds
// the done mark is answered without handling. One that finds a live claim waits until the claim is
// marked done (then it answers without handling) or lapses because its holder died (then it takes
// it): answering at once would tell Telegram an update was handled that a dead replica never finished.
type claims struct {
	rdb     redis.UniversalClient
	keys    string // the bot's prefix + "upd:"
	ttl     time.Duration
	doneTTL time.Duration
	node    string // this process, in claim tokens
	seq     atomic.Uint64
	log     *slog.Logger

	mu   sync.Mutex
	held map[string]string // key → token, renewed by run
}

func newClaims(rdb redis.UniversalClient, keys string, ttl, doneTTL time.Duration, log *slog.Logger) *claims {
	var b [6]byte
	rand.Read(b[:]) // never fails
	return &claims{rdb: rdb, keys: keys, ttl: ttl, doneTTL: doneTTL, node: hex.EncodeToString(b[:]), log: log, held: map[string]string{}}
}

// claimScript takes KEYS[1] for token ARGV[1] for ARGV[2] ms if nobody holds it: 1 taken, 2 done
// before, 0 held by another.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
if v == 'done' then return 2 end
return 0`)

// doneScript marks the update done unless another holder took it after our claim lapsed.
var doneScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
return redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])`)

// releaseClaimScript gives a claim back, if it is still ours.
var releaseClaimScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// claim is an update claimed by this replica.
type claim struct {
	key, token string
}

// take claims update id. done says it was handled before (nothing is claimed then). While another
// replica holds it, take waits; its error is ctx's, or Redis's.
func (c *claims) take(ctx context.Context, id int64) (cl claim, done bool, err error) {
	cl = claim{key: c.keys + itoa(id), token: c.node + ":" + itoa(int64(c.seq.Add(1)))}
	wait := 20 * time.Millisecond
	for {
		n, err := claimScript.Run(ctx, c.rdb, []string{cl.key}, cl.token, c.ttl.Milliseconds()).Int()
		switch {
		case err != nil:
			return claim{}, false, err
		case n == 1:
			c.mu.Lock()
			c.held[cl.key] = cl.token
			c.mu.Unlock()
			return cl, false, nil
		case n == 2:
			return claim{}, true, nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return claim{}, false, ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// finish ends a claim: marked done when the update was handled, given back when it was not (a
// shutdown cut it short), so the next delivery handles it at once.
func (c *claims) finish(ctx context.Context, cl claim, handled bool) {
	c.mu.Lock()
	delete(c.held, cl.key)
	c.mu.Unlock()
	var err error
	if handled {
		err = doneScript.Run(ctx, c.rdb, []string{cl.key}, cl.token, c.doneTTL.Milliseconds()).Err()
	} else {
		err = releaseClaimScript.Run(ctx, c.rdb, []string{cl.key}, cl.token).Err()
	}
	if err != nil {
		// Without the mark a redelivery would be handled again; without the release it waits ClaimTTL.
		c.log.WarnContext(ctx, "update claim: redis", "key", cl.key, "handled", handled, "err", err)
	}
}

// run renews the claims in hand at a third of their TTL until ctx ends.
func (c *claims) run(ctx context.Context) {
	tick := time.NewTicker(c.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.mu.Lock()
		held := make(map[string]string, len(c.held))
		for k, v := range c.held {
			held[k] = v
		}
		c.mu.Unlock()
		if len(held) == 0 {
			continue
		}
		pipe := c.rdb.Pipeline() // one script per key: each in its own slot on a cluster
		for k, token := range held {
			renewScript.Eval(ctx, pipe, []string{k}, token, c.ttl.Milliseconds()) // Eval: a pipeline cannot fall back from EVALSHA
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("update claims: renew", "count", len(held), "err", err)
		}
	}
}
