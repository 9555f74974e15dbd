package dialogs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
)

// Actions are the dialogs' operations for a channel that is not a conversation: the Mini App, where
// a page asks for one thing at a time. Each runs the very effect the chat would run (the same one-time
// code rules and Redis counters, the same gift probing, the same link cache), so a user who switches
// between the chat and the page meets the same rules, limits and state.

// Visitor is a channel user acting outside a conversation.
type Visitor struct {
	Channel  string // "telegram", "vk"
	UserID   int64
	ChatID   int64  // where notices reach the user (Telegram: the private chat, whose id is the user's)
	LangCode string // the channel's idea of the user's language, used until the user picks one
}

// ErrAlreadyLinked refuses to link a visitor who is linked already.
var ErrAlreadyLinked = errors.New("dialogs: already linked")

// CodeRefusal is a one-time code refusal (ErrCodeTooSoon, ErrCodeLimit, ErrCodeLocked, ErrCodeWrong)
// with what the user needs to act on it.
type CodeRefusal struct {
	Err error
	CodeResult
}

func (r *CodeRefusal) Error() string { return r.Err.Error() }
func (r *CodeRefusal) Unwrap() error { return r.Err }

// input is the Input the chat would have built for v at at.
func (e *Engine) input(v Visitor, at time.Time) Input {
	y, m, d := at.In(e.opts.Location).Date()
	return Input{Channel: v.Channel, UserID: v.UserID, ChatID: v.ChatID, LangCode: v.LangCode, At: at,
		Today: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// Account is v's link to an account. Refusal: ledger.ErrNotLinked.
func (e *Engine) Account(ctx context.Context, v Visitor) (ledger.Link, error) {
	return e.linkedAccount(ctx, v.Channel, v.UserID)
}

// state is the dialog State of a linked visitor, as the effects read it.
func linkedState(l ledger.Link) State {
	return State{Account: l.AccountID, Own: l.Phone, Lang: l.Language}
}

func (e *Engine) pendingKey(v Visitor) string { return e.key("otp", "pending", v.Channel, v.UserID) }

// StartLink sends a one-time code to phone, a member's number typed by v, as the chat's "add a
// number" does. Refusals: ErrAlreadyLinked, ledger.ErrInvalidPhone, ledger.ErrUnknownPhone,
// ErrSMSFailed, and *CodeRefusal for ErrCodeLocked, ErrCodeTooSoon and ErrCodeLimit.
func (e *Engine) StartLink(ctx context.Context, v Visitor, phone string) error {
	if _, err := e.Account(ctx, v); err == nil {
		return ErrAlreadyLinked
	} else if !errors.Is(err, ledger.ErrNotLinked) {
		return err
	}
	phone, err := ledger.ParsePhone(phone)
	if err != nil {
		return err
	}
	in := e.input(v, e.opts.Now())
	s := State{Lang: PickLang(v.LangCode), Proving: phone}
	res, err := e.sendCode(ctx, &s, in, phone)
	countOTP("send", err)
	if err != nil && !errors.Is(err, ErrCodeTooSoon) {
		return codeRefusal(err, res)
	}
	// The code the page will confirm is for this phone; a code still valid from a moment ago is too.
	if err := e.rdb.Set(ctx, e.pendingKey(v), phone, e.opts.CodeTTL+time.Minute).Err(); err != nil {
		return fmt.Errorf("dialogs: start link: %w", err)
	}
	return codeRefusal(err, res)
}

// ConfirmLink checks the code sent by StartLink and links v to the phone's account. Refusals:
// ErrAlreadyLinked, ErrCodeExpired, ledger.ErrUnknownPhone, and *CodeRefusal for ErrCodeWrong and
// ErrCodeLocked.
func (e *Engine) ConfirmLink(ctx context.Context, v Visitor, code string) (ledger.Link, error) {
	if l, err := e.Account(ctx, v); err == nil {
		return l, ErrAlreadyLinked
	} else if !errors.Is(err, ledger.ErrNotLinked) {
		return ledger.Link{}, err
	}
	phone, err := e.rdb.Get(ctx, e.pendingKey(v)).Result()
	if errors.Is(err, redis.Nil) {
		return ledger.Link{}, ErrCodeExpired
	}
	if err != nil {
		return ledger.Link{}, fmt.Errorf("dialogs: confirm link: %w", err)
	}
	in := e.input(v, e.opts.Now())
	s := State{Lang: PickLang(v.LangCode), Proving: phone}
	res, err := e.verifyCode(ctx, &s, in, phone, code)
	countOTP("verify", err)
	if err != nil {
		return ledger.Link{}, codeRefusal(err, res)
	}
	e.rdb.Del(ctx, e.pendingKey(v)) // best effort: it expires with the code anyway
	return e.Account(ctx, v)
}

func codeRefusal(err error, res CodeResult) error {
	for _, c := range []error{ErrCodeTooSoon, ErrCodeLimit, ErrCodeLocked, ErrCodeWrong} {
		if errors.Is(err, c) {
			return &CodeRefusal{Err: err, CodeResult: res}
		}
	}
	return err
}

// ChatRefusal is a refusal with the lines the chat answers it with, for a channel that words
// refusals itself (the Mini App): what it is comes from Err, what to say from Lines.
type ChatRefusal struct {
	Err   error
	Lines []Text
}

func (r *ChatRefusal) Error() string { return r.Err.Error() }
func (r *ChatRefusal) Unwrap() error { return r.Err }

// GiftPlan is a gift checked and ready to confirm.
type GiftPlan struct {
	To           string // the recipient's phone, E.164
	Points       int64
	BalanceAfter int64
}

// PlanGift checks a gift as the chat does before its confirmation: the amount as the user typed it
// («100 баллов», "1,000" in English), the sender's limits, and the recipient, whose lookup counts
// against the sender's daily probes when it is not a member. Nothing is spent. Refusals:
// ledger.ErrGiftAmount, ledger.ErrInvalidPhone, ledger.ErrGiftToSelf, ledger.ErrGiftRecipient,
// ledger.ErrInsufficientPoints, ledger.ErrAccountBlocked, ErrGiftPaused and *ledger.LimitError; an
// amount refused, and the lookup before the last one allowed today, come as *ChatRefusal with the
// chat's words for them.
func (e *Engine) PlanGift(ctx context.Context, v Visitor, l ledger.Link, phone, amount string) (GiftPlan, error) {
	to, err := ledger.ParsePhone(phone)
	if err != nil {
		return GiftPlan{}, err
	}
	s, in := linkedState(l), e.input(v, e.opts.Now())
	if to == s.Own {
		return GiftPlan{}, ledger.ErrGiftToSelf
	}
	if err := e.refuseBlocked(ctx, l.AccountID); err != nil {
		return GiftPlan{}, err
	}
	// The amount is judged before the lookup, so a typo in it spends none of the day's lookups.
	bal, err := e.ledger.Balance(ctx, l.AccountID)
	if err != nil {
		return GiftPlan{}, err
	}
	if bal.Points < 1 {
		return GiftPlan{}, &ChatRefusal{Err: ledger.ErrInsufficientPoints, Lines: []Text{T("gift.nothing")}}
	}
	points, no := amountAnswer(amount, cmp.Or(l.Language, PickLang(v.LangCode)), bal.Points)
	if no != nil {
		return GiftPlan{}, no
	}
	r, err := e.giftLookup(ctx, &s, in, to)
	if errors.Is(err, ledger.ErrGiftRecipient) && r.ProbesLeft == 1 {
		t, _ := Refusal(err)
		return GiftPlan{}, &ChatRefusal{Err: err, Lines: []Text{t, T("gift.probe_warning")}}
	}
	if err != nil {
		return GiftPlan{}, err
	}
	if points > r.Balance.Points { // spent elsewhere since the balance above was read
		return GiftPlan{}, ledger.ErrInsufficientPoints
	}
	return GiftPlan{To: to, Points: points, BalanceAfter: r.Balance.Points - points}, nil
}

// refuseBlocked refuses a blocked account before anything is looked up on its behalf.
func (e *Engine) refuseBlocked(ctx context.Context, account int64) error {
	a, err := e.ledger.Account(ctx, account)
	if err != nil {
		return err
	}
	if a.Blocked {
		return ledger.ErrAccountBlocked
	}
	return nil
}

// Gift makes a gift in one step: the ledger checks every rule of it in its transaction, and a number
// that cannot take it counts against the sender's lookups, as in PlanGift. key is the client's
// idempotency key, scoped to the account: a request repeating an earlier key gets that gift's receipt
// and moves nothing, even while the limits it used up would refuse a new one. Refusals: those of
// PlanGift, and ledger.ErrIdempotencyKeyReused.
func (e *Engine) Gift(ctx context.Context, v Visitor, l ledger.Link, phone string, points int64, key string) (ledger.GiftReceipt, error) {
	req := ledger.GiftRequest{From: l.AccountID, FromPhone: l.Phone, To: phone, Points: points, Key: accountKey(l, key)}
	in := e.input(v, e.opts.Now())
	if err := e.giftPaused(ctx, l.AccountID, in); err != nil {
		if used, kerr := e.ledger.GiftKeyUsed(ctx, req.Key); kerr != nil || !used {
			return ledger.GiftReceipt{}, cmpOr(kerr, err)
		}
	}
	r, err := e.ledger.Gift(ctx, req)
	if errors.Is(err, ledger.ErrGiftRecipient) {
		_, err = e.countProbe(ctx, l.AccountID, in)
	}
	return r, err
}

// accountKey scopes a client's idempotency key to the account.
func accountKey(l ledger.Link, key string) string { return fmt.Sprintf("app:%d:%s", l.AccountID, key) }

// Redeem orders the catalogue item code, as the chat's confirmation does. cost, when not 0, is the
// price the user saw: if it changed meanwhile nothing is spent. key is the client's idempotency key,
// scoped to the account. Refusals: those of ledger.Redeem.
func (e *Engine) Redeem(ctx context.Context, v Visitor, l ledger.Link, code string, cost int64, key string) (ledger.Order, ledger.Item, error) {
	s := linkedState(l)
	r, err := e.redeem(ctx, &s, Effect{Code: code, Points: cost}, accountKey(l, key))
	return r.Order, r.Item, err
}

// SetLanguage remembers a linked visitor's language for the chat and the page alike. Refusal:
// ledger.ErrNotLinked.
func (e *Engine) SetLanguage(ctx context.Context, v Visitor, lang string) error {
	defer e.forget(v.Channel, v.UserID)
	return e.links.SetLanguage(ctx, v.Channel, v.UserID, lang)
}
