package dialogs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
)

// One-time codes prove a phone. A code is 6 digits from crypto/rand, stored only as a salted hash,
// valid CodeTTL, single use; CodeTries wrong tries lock the phone for LockFor; a new code no sooner
// than ResendAfter; at most CodesPerHour per phone and per channel user. Times are the Engine's clock
// (kept in the values), Redis TTLs only collect the garbage.

func (e *Engine) codeKey(phone string) string { return e.key("otp", "code", phone) }
func (e *Engine) lockKey(phone string) string { return e.key("otp", "lock", phone) }
func (e *Engine) sentKey(phone string) string { return e.key("otp", "sent", phone) }

// locked returns how long phone stays locked, or 0.
func (e *Engine) locked(ctx context.Context, phone string, now time.Time) (time.Duration, error) {
	until, err := e.rdb.Get(ctx, e.lockKey(phone)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("dialogs: otp lock: %w", err)
	}
	return max(time.UnixMilli(until).Sub(now), 0), nil
}

func (e *Engine) sendCode(ctx context.Context, s *State, in Input, phone string) (CodeResult, error) {
	now := in.At
	if wait, err := e.locked(ctx, phone, now); err != nil || wait > 0 {
		return CodeResult{Wait: wait}, cmpOr(err, ErrCodeLocked)
	}
	if !s.Adding {
		if _, err := e.ledger.AccountByPhone(ctx, phone); err != nil {
			return CodeResult{}, err
		}
	}
	sent, err := e.rdb.Get(ctx, e.sentKey(phone)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	if since := now.Sub(time.UnixMilli(sent)); err == nil && since < e.opts.ResendAfter {
		return CodeResult{Wait: e.opts.ResendAfter - since}, ErrCodeTooSoon
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
	salt := nonce() + nonce()
	pipe := e.rdb.TxPipeline()
	pipe.HSet(ctx, e.codeKey(phone), "hash", codeHash(salt, phone, code), "salt", salt,
		"user", in.Channel+":"+strconv.FormatInt(in.UserID, 10), "exp", now.Add(e.opts.CodeTTL).UnixMilli(), "tries", 0)
	pipe.Expire(ctx, e.codeKey(phone), e.opts.CodeTTL+time.Minute)
	pipe.Set(ctx, e.sentKey(phone), now.UnixMilli(), e.opts.ResendAfter+time.Minute)
	if _, err := pipe.Exec(ctx); err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp store: %w", err)
	}
	if err := e.sms.Send(ctx, phone, e.texts.Render(s.Lang, T("sms.code", "Code", code))); err != nil {
		e.log.WarnContext(ctx, "sms not sent", "phone", ledger.MaskPhone(phone), "err", err)
		e.rdb.Del(ctx, e.codeKey(phone), e.sentKey(phone)) // best effort: the user may try again at once
		return CodeResult{}, ErrSMSFailed
	}
	return CodeResult{}, nil
}

func codeHash(salt, phone, code string) string {
	h := sha256.Sum256([]byte(salt + "|" + phone + "|" + code))
	return hex.EncodeToString(h[:])
}

// verifyCode checks code for phone; on success the code is spent and the user linked (or the phone added).
func (e *Engine) verifyCode(ctx context.Context, s *State, in Input, phone, code string) (CodeResult, error) {
	now := in.At
	if wait, err := e.locked(ctx, phone, now); err != nil || wait > 0 {
		return CodeResult{Wait: wait}, cmpOr(err, ErrCodeLocked)
	}
	key := e.codeKey(phone)
	v, err := e.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	exp, _ := strconv.ParseInt(v["exp"], 10, 64)
	if len(v) == 0 || now.UnixMilli() > exp || v["user"] != in.Channel+":"+strconv.FormatInt(in.UserID, 10) {
		return CodeResult{}, ErrCodeExpired
	}
	if subtle.ConstantTimeCompare([]byte(codeHash(v["salt"], phone, code)), []byte(v["hash"])) == 1 {
		// Single use: of two concurrent checks of the right code only the one that deletes it wins.
		n, err := e.rdb.Del(ctx, key).Result()
		if err != nil {
			return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
		}
		if n == 0 {
			return CodeResult{}, ErrCodeExpired
		}
		return CodeResult{}, e.linkOrAdd(ctx, s, in, phone)
	}
	tries, err := e.rdb.HIncrBy(ctx, key, "tries", 1).Result()
	if err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp: %w", err)
	}
	if left := e.opts.CodeTries - int(tries); left > 0 {
		return CodeResult{TriesLeft: left}, ErrCodeWrong
	}
	pipe := e.rdb.TxPipeline()
	pipe.Set(ctx, e.lockKey(phone), now.Add(e.opts.LockFor).UnixMilli(), e.opts.LockFor+time.Minute)
	pipe.Del(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return CodeResult{}, fmt.Errorf("dialogs: otp lock: %w", err)
	}
	e.log.WarnContext(ctx, "phone locked after wrong codes", "phone", ledger.MaskPhone(phone), "user_id", in.UserID)
	return CodeResult{Wait: e.opts.LockFor}, ErrCodeLocked
}
