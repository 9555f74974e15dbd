package dialogs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
)

// run does one Effect. Effects that link, unlink or change the language update s.
func (e *Engine) run(ctx context.Context, s *State, in Input, eff Effect) Result {
	var r Result
	var err error
	switch eff.Kind {
	case EffBalance:
		r.Balance, err = e.ledger.Balance(ctx, s.Account)
	case EffForecast:
		if r.Burns, err = e.ledger.Forecast(ctx, s.Account, ForecastDays); err == nil {
			r.Items, r.Balance, err = e.catalog(ctx, s.Account)
		}
	case EffCatalog:
		r.Items, r.Balance, err = e.catalog(ctx, s.Account)
	case EffItem:
		// A blocked account hears so before any confirmation is offered.
		if err = e.refuseBlocked(ctx, s.Account); err == nil {
			if r.Item, err = e.ledger.Item(ctx, eff.Code); err == nil {
				r.Balance, err = e.ledger.Balance(ctx, s.Account)
			}
		}
	case EffRedeem:
		r, err = e.redeem(ctx, s, eff, spendKey(in, eff.Key))
	case EffRedeemDone:
		if r.Order, err = e.ledger.OrderByKey(ctx, spendKey(in, eff.Key)); err == nil {
			r.Item, err = e.ledger.Item(ctx, r.Order.Code)
		}
	case EffHistory:
		if r, err = e.history(ctx, s.Account, eff); err == nil {
			r.Items, err = e.catalogItems(ctx) // the rewards' names
		}
	case EffGiftStart:
		if err = e.refuseBlocked(ctx, s.Account); err != nil {
			break
		}
		if err = e.giftPaused(ctx, s.Account, in); err == nil {
			err = e.ledger.CheckGift(ctx, s.Account, 0) // already gifted today: say so before asking anything
		}
	case EffGiftLookup:
		r, err = e.giftLookup(ctx, s, in, eff.Phone)
	case EffGift:
		r.Receipt, err = e.ledger.Gift(ctx, ledger.GiftRequest{From: s.Account, FromPhone: s.Own, To: eff.Phone, Points: eff.Points,
			Key: spendKey(in, eff.Key)})
	case EffSendCode:
		r.Code, err = e.sendCode(ctx, s, in, eff.Phone)
		countOTP("send", err)
	case EffVerifyCode:
		r.Code, err = e.verifyCode(ctx, s, in, eff.Phone, eff.Code)
		countOTP("verify", err)
	case EffSetLang:
		if s.Linked() {
			err = e.links.SetLanguage(ctx, in.Channel, in.UserID, eff.Lang)
			e.forget(in.Channel, in.UserID)
		}
		if err == nil {
			s.Lang = eff.Lang
		}
	case EffWarnings:
		r.WarningsOn, err = e.warnings(ctx, s, eff)
	case EffUnlink:
		err = e.links.Unlink(ctx, in.Channel, in.UserID)
		e.forget(in.Channel, in.UserID)
		if err == nil {
			s.Account, s.Own = 0, ""
		}
	default:
		err = fmt.Errorf("dialogs: unknown effect %q", eff.Kind)
	}
	r.Err = err
	return r
}

// history reads a page of eff's history and whether more lies beyond it on either side; it asks for
// one operation more than a page to know.
func (e *Engine) history(ctx context.Context, account int64, eff Effect) (Result, error) {
	var r Result
	var err error
	if eff.After > 0 {
		if r.Ops, err = e.ledger.HistoryNewer(ctx, account, eff.After, HistoryPage+1); err != nil {
			return r, err
		}
		if len(r.Ops) > HistoryPage { // the oldest page above eff.After, and more above it
			r.Ops, r.Newer, r.Older = r.Ops[1:], true, true
			return r, nil
		}
		eff.Before = 0 // fewer than a page lie above: show the newest page
	}
	if r.Ops, err = e.ledger.History(ctx, account, eff.Before, HistoryPage+1); err != nil {
		return r, err
	}
	if len(r.Ops) > HistoryPage {
		r.Ops, r.Older = r.Ops[:HistoryPage], true
	}
	r.Newer = eff.Before > 0
	return r, nil
}

func (e *Engine) catalog(ctx context.Context, account int64) ([]ledger.Item, ledger.Balance, error) {
	items, err := e.catalogItems(ctx)
	if err != nil {
		return nil, ledger.Balance{}, err
	}
	b, err := e.ledger.Balance(ctx, account)
	return items, b, err
}

// redeem spends the confirmed cost only (eff.Points; 0 when the caller saw no price): the ledger
// refuses if the price changed since it was shown. key makes a retried confirmation order once.
func (e *Engine) redeem(ctx context.Context, s *State, eff Effect, key string) (Result, error) {
	var r Result
	var err error
	if r.Order, err = e.ledger.Redeem(ctx, ledger.RedeemRequest{AccountID: s.Account, Code: eff.Code, Cost: eff.Points, Key: key}); err != nil {
		return r, err
	}
	r.Item, err = e.ledger.Item(ctx, eff.Code) // its title, for the answer
	return r, err
}

// spendKey is the ledger's idempotency key of a confirmed spend: the confirmed dialog's nonce, scoped
// to the channel user, so a retried confirmation cannot spend twice.
func spendKey(in Input, nonce string) string {
	return fmt.Sprintf("%s:%d:%s", in.Channel, in.UserID, nonce)
}

// linkOrAdd finishes a proven phone: it links the user, or adds the phone to the linked account.
func (e *Engine) linkOrAdd(ctx context.Context, s *State, in Input, phone string) error {
	if s.Adding && s.Linked() {
		_, err := e.ledger.Enrol(ctx, phone, s.Own)
		return err
	}
	l, err := e.links.Link(ctx, ledger.Link{Channel: in.Channel, UserID: in.UserID, ChatID: in.ChatID, Phone: phone, Language: s.Lang})
	e.forget(in.Channel, in.UserID)
	if err != nil {
		return err
	}
	s.Account, s.Own = l.AccountID, l.Phone
	return nil
}

// Gift probing: each lookup of a number that is not a member (or is blocked) counts against the
// sender for the local day; at ProbesPerDay gifting pauses until the next day.

func (e *Engine) probeKey(account int64, in Input) string {
	return e.key("probe", account, in.Today.Format("2006-01-02"))
}

func (e *Engine) giftPaused(ctx context.Context, account int64, in Input) error {
	n, err := e.rdb.Get(ctx, e.probeKey(account, in)).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("dialogs: gift probes: %w", err)
	}
	if n >= e.opts.ProbesPerDay {
		return ErrGiftPaused
	}
	return nil
}

// countProbe counts a lookup of a number that cannot take a gift against the sender; it returns how
// many such lookups are left today and the refusal to give.
func (e *Engine) countProbe(ctx context.Context, account int64, in Input) (int, error) {
	key := e.probeKey(account, in)
	pipe := e.rdb.TxPipeline()
	n := pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, 48*time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("dialogs: gift probes: %w", err)
	}
	return max(e.opts.ProbesPerDay-int(n.Val()), 0), ledger.ErrGiftRecipient
}

func (e *Engine) giftLookup(ctx context.Context, s *State, in Input, phone string) (Result, error) {
	if err := e.giftPaused(ctx, s.Account, in); err != nil {
		return Result{}, err
	}
	a, err := e.ledger.AccountByPhone(ctx, phone)
	switch {
	case errors.Is(err, ledger.ErrUnknownPhone) || err == nil && a.Blocked:
		left, err := e.countProbe(ctx, s.Account, in)
		return Result{ProbesLeft: left}, err
	case err != nil:
		return Result{}, err
	case a.ID == s.Account:
		return Result{}, ledger.ErrGiftToSelf
	}
	if err := e.ledger.CheckGift(ctx, s.Account, a.ID); err != nil {
		return Result{}, err // an eleventh person this month
	}
	bal, err := e.ledger.Balance(ctx, s.Account)
	if err != nil {
		return Result{}, err
	}
	return Result{Receipt: ledger.GiftReceipt{ToAccount: a.ID, ToPhone: phone}, Balance: bal}, nil
}
