package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// windowScript keeps a sliding window of posts into one chat: at most ARGV[1] in any ARGV[2] µs.
// KEYS[1] is a sorted set of the posts in the window, scored by Redis's clock (the same for every
// replica). It charges one post and returns 0, or returns the µs until the oldest leaves the window
// (charging nothing). ARGV[3] makes the member unique when two posts share a microsecond.
var windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n, per = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < n then
	redis.call('ZADD', KEYS[1], now, string.format('%.0f', now) .. ':' .. ARGV[3])
	redis.call('PEXPIRE', KEYS[1], math.ceil(per / 1000) + 1000)
	return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + per - now, 1)`)

// ReserveGroupPost takes one of the n posts into chat allowed in any period per, for every replica
// of this bot, and returns 0; or it returns how long until one frees, taking nothing. The support
// relay keeps Telegram's 20 posts a minute into its group with it. The key shares the outbound
// limits' hash tag, so it lives in their slot on a Redis Cluster.
func (b *Bot) ReserveGroupPost(ctx context.Context, chat int64, n int, per time.Duration) (time.Duration, error) {
	var nonce [6]byte
	rand.Read(nonce[:])
	us, err := windowScript.Run(ctx, b.rdb, []string{b.out.keys + "window:" + itoa(chat)}, n, per.Microseconds(),
		hex.EncodeToString(nonce[:])).Int64()
	return time.Duration(us) * time.Microsecond, err
}
