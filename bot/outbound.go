package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// outbound keeps what the bot sends within Telegram's limits across all replicas: GlobalRate messages
// a second for the bot, one a second per private chat (ChatBurst at once), 20 a minute per group, and
// a 429's retry_after pauses every replica. The buckets are GCRA in Redis, checked and charged by one
// script per message; all of a bot's outbound keys share one hash tag, so the script is atomic on a
// Redis Cluster too (a bot sends at most a few hundred messages a second: no hot slot worth
// spreading). Without Redis each replica falls back to its own in-memory throttle: messages still go
// out (the apology that Redis is down among them), only the limits then hold per replica.
type outbound struct {
	rdb      redis.UniversalClient
	keys     string // the bot's key prefix, ending in its hash tag
	global   gcra
	private  gcra
	group    gcra
	local    *throttle
	log      *slog.Logger
	lastWarn atomic.Int64 // unix nanos of the last "Redis is down" warning
}

// gcra is a bucket: one message every interval, burst at once.
type gcra struct {
	interval time.Duration
	burst    int
}

// groupInterval is Telegram's 20 messages a minute into one group.
const groupInterval = 3 * time.Second

func newOutbound(rdb redis.UniversalClient, keys string, perSecond, chatBurst int, log *slog.Logger) *outbound {
	return &outbound{rdb: rdb, keys: keys, log: log, local: newThrottle(perSecond, chatBurst),
		global:  gcra{time.Second / time.Duration(perSecond), perSecond},
		private: gcra{time.Second, chatBurst},
		group:   gcra{groupInterval, chatBurst}}
}

// outboundScript charges the bot's bucket and the chat's, or says how long until both have room.
// KEYS: the bot's bucket, the chat's bucket, the pause a 429 set. ARGV: the bot's interval (µs) and
// burst, the chat's interval and burst. Returns 0 when the message may go now (both charged), else
// the µs to wait (nothing charged). Times are Redis's clock, the same for every replica.
var outboundScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return pause - now end
local wait, tats = 0, {}
for i = 1, 2 do
	local interval, burst = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
	local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now) + interval
	local over = tat - now - burst * interval
	if over > wait then wait = over end
	tats[i] = tat
end
if wait > 0 then return wait end
for i = 1, 2 do
	redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1000)
end
return 0`)

// pauseScript moves the pause forward to now + ARGV[1] µs (never back).
var pauseScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
if till > tonumber(redis.call('GET', KEYS[1]) or '0') then
	redis.call('SET', KEYS[1], string.format('%.0f', till), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0`)

// wait returns once a message to chat may go, or with ctx's error.
func (o *outbound) wait(ctx context.Context, chat int64) error {
	for {
		d, err := o.reserve(ctx, chat)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.warn(err)
			return o.local.wait(ctx, chat)
		}
		if d <= 0 {
			return nil
		}
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// reserve charges the buckets for one message to chat and returns 0, or returns how long until they
// have room (charging nothing).
func (o *outbound) reserve(ctx context.Context, chat int64) (time.Duration, error) {
	per := o.private
	if chat < 0 { // groups and supergroups have negative ids
		per = o.group
	}
	keys := []string{o.keys + "all", o.keys + "chat:" + itoa(chat), o.keys + "pause"}
	us, err := outboundScript.Run(ctx, o.rdb, keys, o.global.interval.Microseconds(), o.global.burst,
		per.interval.Microseconds(), per.burst).Int64()
	return time.Duration(us) * time.Microsecond, err
}

// pause stops every replica's sending for d (a 429's retry_after).
func (o *outbound) pause(ctx context.Context, d time.Duration) {
	o.local.pause(d)
	if err := pauseScript.Run(ctx, o.rdb, []string{o.keys + "pause"}, d.Microseconds()).Err(); err != nil && ctx.Err() == nil {
		o.warn(err)
	}
}

// warn logs that the limits fall back to this replica's, at most once every 10 s.
func (o *outbound) warn(err error) {
	now := time.Now().UnixNano()
	if last := o.lastWarn.Load(); now-last < int64(10*time.Second) || !o.lastWarn.CompareAndSwap(last, now) {
		return
	}
	o.log.Warn("telegram rate limits: redis unavailable; limiting this replica alone", "err", err)
}
