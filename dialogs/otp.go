package dialogs

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
)

// One-time codes prove a phone, on every channel alike. The rules keep them from becoming an SMS
// cannon or a way to lock strangers out:
//   - codes go only to numbers in the operator's range (PhonePrefixes);
//   - a code is 6 digits from crypto/rand, stored only as an HMAC keyed with the server's CodeSecret
//     (so a copy of Redis does not give the codes away), valid CodeTTL, single use, and it dies after
//     CodeTries wrong tries;
//   - a pending code belongs to the user who asked: another user asking for the same phone is told
//     to wait and does not replace it; the LockFor lockout after a dead code is per (phone, user);
//   - per phone, from all users together: CodesPerHour an hour and CodesPerDay a local day, no sooner
//     than ResendAfter apart; per user: CodesPerHour an hour, NewPhoneCodesPerDay a local day to numbers
//     that are not members yet, and WrongCodesPerDay wrong tries a local day, after which the user
//     waits for the next local day.
//
// Times are the Engine's clock (kept in the values and in the day counters' keys), except the hourly
// limits, which are redis_rate's rolling windows on Redis's clock; Redis TTLs only collect the garbage.

// A phone's keys carry the hash tag {phone} and a user's the tag {channel:user}, so in a Redis
// Cluster each MULTI below touches one hash slot; what counts against both a phone and a user is
// written in two steps.
func (e *Engine) codeKey(phone string) string { return e.key("otp", "code", phoneTag(phone)) }
func (e *Engine) sentKey(phone string) string { return e.key("otp", "sent", phoneTag(phone)) }
func (e *Engine) lockKey(phone string, in Input) string {
	return e.key("otp", "lock", phoneTag(phone), in.Channel, in.UserID)
}
func (e *Engine) wrongKey(in Input) string {
	return e.dayKey(in, "wrong", userTag(in.Channel, in.UserID))
}
func (e *Engine) phoneDayKey(in Input, phone string) string {
	return e.dayKey(in, "phone", phoneTag(phone))
}
func (e *Engine) newPhoneDayKey(in Input) string {
	return e.dayKey(in, "new", userTag(in.Channel, in.UserID))
}

// phoneTag is a phone as a Redis Cluster hash tag.
func phoneTag(phone string) string { return "{" + phone + "}" }

// owner names the channel user a code belongs to.
func owner(in Input) string { return in.Channel + ":" + strconv.FormatInt(in.UserID, 10) }

// refuseLocked says how long the user must wait before codes for phone, if at all: after a code of
// theirs died of wrong tries, or after too many wrong tries today.
func (e *Engine) refuseLocked(ctx context.Context, phone string, in Input) (CodeResult, error) {
	pipe := e.rdb.Pipeline()
	until := pipe.Get(ctx, e.lockKey(phone, in))
	wrong := pipe.Get(ctx, e.wrongKey(in))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return CodeResult{}, fmt.Errorf("dialogs: otp lock: %w", err)
	}
	if n, _ := wrong.Int(); n >= e.opts.WrongCodesPerDay {
		return CodeResult{Wait: e.nextLocalDay(in).Sub(in.At)}, ErrCodeLocked
	}
	if ms, err := until.Int64(); err == nil {
		if wait := time.UnixMilli(ms).Sub(in.At); wait > 0 {
			return CodeResult{Wait: wait}, ErrCodeLocked
		}
	}
	return CodeResult{}, nil
}

func (e *Engine) nextLocalDay(in Input) time.Time {
	return time.Date(in.Today.Year(), in.Today.Month(), in.Today.Day()+1, 0, 0, 0, 0, e.opts.Location)
}

// inRange says whether codes may go to phone: the operator's own mobile numbers only.
func (e *Engine) inRange(phone string) bool {
	for _, p := range e.opts.PhonePrefixes {
		if strings.HasPrefix(phone, p) {
			return true
		}
	}
	return false
}

func (e *Engine) sendCode(ctx context.Context, s *State, in Input, phone string) (CodeResult, error) {
	now := in.At
	if !e.inRange(phone) {
		return CodeResult{}, ErrCodePhoneRange
	}
	if res, err := e.refuseLocked(ctx, phone, in); err != nil {
		return res, err
	}
	a, err := e.ledger.AccountByPhone(ctx, phone)
	member := err == nil
	switch {
	case err != nil && !errors.Is(err, ledger.ErrUnknownPhone):
		return CodeResult{}, err
	case !member && !s.Adding:
		return CodeResult{}, ledger.ErrUnknownPhone // only a linked user may add a number that is new
	case member && s.Adding && a.ID != s.Account:
		return CodeResult{}, ledger.ErrPhoneTaken // say so now, not after an SMS and a code
	}
	// Someone else's code for this phone stands until it expires; one's own may be resent.
	pending, err := e.rdb.HMGet(ctx, e.codeKey(phone), "user", "exp").Result()
	if err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	if who, _ := pending[0].(string); who != "" && who != owner(in) {
		exp, _ := strconv.ParseInt(fmt.Sprint(pending[1]), 10, 64)
		if wait := time.UnixMilli(exp).Sub(now); wait > 0 {
			return CodeResult{Wait: wait}, ErrCodeTooSoon
		}
	}
	sent, err := e.rdb.Get(ctx, e.sentKey(phone)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	if since := now.Sub(time.UnixMilli(sent)); err == nil && since < e.opts.ResendAfter {
		return CodeResult{Wait: e.opts.ResendAfter - since}, ErrCodeTooSoon
	}
	daily := []dailyCount{{e.phoneDayKey(in, phone), e.opts.CodesPerDay}}
	if !member {
		daily = append(daily, dailyCount{e.newPhoneDayKey(in), e.opts.NewPhoneCodesPerDay})
	}
	for _, d := range daily {
		n, err := e.rdb.Get(ctx, d.key).Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
		}
		if n >= d.limit {
			return CodeResult{Wait: e.nextLocalDay(in).Sub(now)}, ErrCodeLimit
		}
	}
	for _, k := range []string{e.key("otp", "phone", phone), e.key("otp", "user", in.Channel, in.UserID)} {
		res, err := e.limiter.Allow(ctx, k, redis_rate.PerHour(e.opts.CodesPerHour))
		if err != nil {
			return CodeResult{}, fmt.Errorf("dialogs: otp rate: %w", err)
		}
		if res.Allowed == 0 {
			return CodeResult{Wait: res.RetryAfter}, ErrCodeLimit
		}
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	claim, err := claimCode.Run(ctx, e.rdb, []string{e.codeKey(phone), e.sentKey(phone), daily[0].key},
		owner(in), now.UnixMilli(), e.opts.ResendAfter.Milliseconds(), daily[0].limit, e.codeHash(phone, code),
		e.opts.CodeTTL.Milliseconds()).Int64Slice()
	if err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp store: %w", err)
	}
	switch claim[0] { // another user's ask for this phone got in between the checks above and here
	case claimTooSoon:
		return CodeResult{Wait: time.Duration(claim[1]) * time.Millisecond}, ErrCodeTooSoon
	case claimDayLimit:
		return CodeResult{Wait: e.nextLocalDay(in).Sub(now)}, ErrCodeLimit
	}
	for _, d := range daily[1:] { // the user's counter, in the user's hash slot
		pipe := e.rdb.TxPipeline()
		pipe.Incr(ctx, d.key)
		pipe.Expire(ctx, d.key, 48*time.Hour)
		if _, err := pipe.Exec(ctx); err != nil {
			return CodeResult{}, fmt.Errorf("dialogs: otp store: %w", err)
		}
	}
	if err := e.sms.Send(ctx, phone, e.texts.Render(s.Lang, T("sms.code", "Code", code))); err != nil {
		e.log.WarnContext(ctx, "sms not sent", "phone", ledger.MaskPhone(phone), "err", err)
		e.rdb.Del(ctx, e.codeKey(phone), e.sentKey(phone)) // best effort: the user may try again at once
		return CodeResult{}, ErrSMSFailed
	}
	return CodeResult{}, nil
}

// claimCode stores a new code for a phone, atomically in the phone's hash slot. sendCode's checks
// before it read and then write, so users asking at once for one phone would each pass them, each get
// an SMS and replace each other's code; claimCode checks again what they could race on (another
// user's pending code, the resend pause, the phone's codes today) and writes only if all still allow.
// KEYS: the code, the last send, the phone's count today. ARGV: owner, now and the resend pause (ms),
// the day's limit, the code's HMAC, its TTL (ms). It returns {claimed or a refusal, the wait in ms}.
var claimCode = redis.NewScript(`
local now, pause, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[6])
local who = redis.call('HGET', KEYS[1], 'user')
if who and who ~= ARGV[1] then
	local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0') or 0
	if exp > now then return {1, exp - now} end
end
local sent = tonumber(redis.call('GET', KEYS[2]) or '')
if sent and now - sent < pause then return {1, pause - (now - sent)} end
if (tonumber(redis.call('GET', KEYS[3]) or '0') or 0) >= tonumber(ARGV[4]) then return {2, 0} end
redis.call('DEL', KEYS[1]) -- a resent code starts with no wrong tries and no old fields
redis.call('HSET', KEYS[1], 'hash', ARGV[5], 'user', ARGV[1], 'exp', now + ttl, 'tries', 0)
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
redis.call('SET', KEYS[2], now, 'PX', pause + 60000)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 172800)
return {0, 0}
`)

// checkCode checks a code against the phone's pending one in one step, so that guesses sent at once
// are counted one after another: read, compare, then count, done apart, would let each of a burst of
// guesses see the tries before any was counted. A right code is spent; a wrong one counts a try, and
// the CodeTries-th kills the code and locks its owner out of this phone. KEYS: the code, the owner's
// lock for the phone. ARGV: owner, now (ms), the guess's HMAC, CodeTries, the lock's end (ms) and
// TTL (ms). It returns {an answer below, tries left}.
var checkCode = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'hash', 'user', 'exp')
if not v[1] or v[2] ~= ARGV[1] or (tonumber(v[3]) or 0) < tonumber(ARGV[2]) then return {0, 0} end
if v[1] == ARGV[3] then
	redis.call('DEL', KEYS[1])
	return {1, 0}
end
local left = tonumber(ARGV[4]) - redis.call('HINCRBY', KEYS[1], 'tries', 1)
if left > 0 then return {2, left} end
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
redis.call('DEL', KEYS[1])
return {3, 0}
`)

// checkCode's answers.
const (
	checkExpired = 0 // no pending code of this user's, or it expired
	checkRight   = 1
	checkWrong   = 2
	checkDead    = 3 // the wrong try that killed the code
)

// claimCode's answers.
const (
	claimTooSoon  = 1
	claimDayLimit = 2
)

// dailyCount is a count of codes per local day that must stay under limit.
type dailyCount struct {
	key   string
	limit int
}

// dayKey is a counter of the local day (of the Engine's clock) named by parts.
func (e *Engine) dayKey(in Input, parts ...any) string {
	return e.key(append([]any{"otp", "day", in.Today.Format(time.DateOnly)}, parts...)...)
}

// codeHash is what Redis keeps of a code: an HMAC under the server's secret, so that reading Redis
// does not let anyone try the million codes offline.
func (e *Engine) codeHash(phone, code string) string {
	m := hmac.New(sha256.New, e.opts.CodeSecret)
	m.Write([]byte(phone + "|" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// verifyCode checks code for phone; on success the code is spent and the user linked (or the phone added).
func (e *Engine) verifyCode(ctx context.Context, s *State, in Input, phone, code string) (CodeResult, error) {
	now := in.At
	if res, err := e.refuseLocked(ctx, phone, in); err != nil {
		return res, err
	}
	key := e.codeKey(phone)
	res, err := checkCode.Run(ctx, e.rdb, []string{key, e.lockKey(phone, in)}, owner(in), now.UnixMilli(),
		e.codeHash(phone, code), e.opts.CodeTries, now.Add(e.opts.LockFor).UnixMilli(), (e.opts.LockFor + time.Minute).Milliseconds(),
	).Int64Slice()
	if err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp check: %w", err)
	}
	switch res[0] {
	case checkExpired:
		return CodeResult{}, ErrCodeExpired
	case checkRight:
		return CodeResult{}, e.linkOrAdd(ctx, s, in, phone)
	}
	pipe := e.rdb.Pipeline() // the user's hash slot: apart from the code's
	wrong := pipe.Incr(ctx, e.wrongKey(in))
	pipe.Expire(ctx, e.wrongKey(in), 48*time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	if wrong.Val() >= int64(e.opts.WrongCodesPerDay) {
		e.rdb.Del(ctx, key) // best effort: the user cannot use it before it expires anyway
		e.log.WarnContext(ctx, "user locked out of codes for the day", "channel", in.Channel, "user_id", in.UserID)
		return CodeResult{Wait: e.nextLocalDay(in).Sub(now)}, ErrCodeLocked
	}
	if res[0] == checkWrong {
		return CodeResult{TriesLeft: int(res[1])}, ErrCodeWrong
	}
	// The code died; its owner waits LockFor before another code for this phone. Nobody else does.
	e.log.WarnContext(ctx, "code died after wrong tries", "phone", ledger.MaskPhone(phone), "user_id", in.UserID)
	return CodeResult{Wait: e.opts.LockFor}, ErrCodeLocked
}
