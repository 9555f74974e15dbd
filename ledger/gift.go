package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Gift moves points from one account to the account holding another phone, in one transaction.
// The points keep their expiry dates: the sender's soonest-expiring lots go first and land in the
// recipient's lots of the same dates. Refusals: ErrGiftAmount, ErrInvalidPhone, ErrGiftRecipient,
// ErrGiftToSelf, ErrAccountBlocked, ErrInsufficientPoints, and *LimitError wrapping ErrGiftDailyLimit
// or ErrGiftMonthlyLimit with the instant the rule allows again.
func (s *Store) Gift(ctx context.Context, g GiftRequest) (GiftReceipt, error) {
	now := s.now()
	r, err := withTx(ctx, s.pool, func(tx pgx.Tx) (GiftReceipt, error) {
		return s.giftTx(ctx, tx, g, now)
	})
	if err != nil {
		return GiftReceipt{}, fmt.Errorf("gift: %w", err)
	}
	return r, nil
}

func (s *Store) giftTx(ctx context.Context, tx pgx.Tx, g GiftRequest, now time.Time) (GiftReceipt, error) {
	if g.Points < 1 || g.Points > MaxGift {
		return GiftReceipt{}, ErrGiftAmount
	}
	toPhone, err := ParsePhone(g.To)
	if err != nil {
		return GiftReceipt{}, err
	}
	to, err := phoneAccount(ctx, tx, toPhone)
	switch {
	case err != nil:
		return GiftReceipt{}, err
	case to == 0:
		return GiftReceipt{}, ErrGiftRecipient
	case to == g.From:
		return GiftReceipt{}, ErrGiftToSelf
	}
	locked, err := lockAccounts(ctx, tx, min(g.From, to), max(g.From, to))
	if err != nil {
		return GiftReceipt{}, err
	}
	if locked[g.From].blocked {
		return GiftReceipt{}, ErrAccountBlocked
	}
	if locked[to].blocked {
		return GiftReceipt{}, ErrGiftRecipient
	}
	fromPhone, err := senderPhone(ctx, tx, g)
	if err != nil {
		return GiftReceipt{}, err
	}
	if !s.opts.NoGiftLimits {
		// Read after the lock: every earlier gift of this sender has committed by now.
		if err := s.checkGiftLimits(ctx, tx, g.From, to, now); err != nil {
			return GiftReceipt{}, err
		}
	}
	lots, err := liveLots(ctx, tx, g.From, s.LocalDate(now))
	if err != nil {
		return GiftReceipt{}, err
	}
	if sumLots(lots) < g.Points {
		return GiftReceipt{}, ErrInsufficientPoints
	}
	moved := pickLots(lots, g.Points)
	j := journalTx{kind: "gift", at: now}
	j.lots(g.From, moved, -1, toPhone)
	j.lots(to, moved, 1, fromPhone)
	r := GiftReceipt{FromAccount: g.From, ToAccount: to, FromPhone: fromPhone, ToPhone: toPhone,
		Points: g.Points, Balance: sumLots(lots) - g.Points, Lots: moved, At: now}
	// All writes in one round trip: the locks are held, so nothing between them needs an answer.
	b := &pgx.Batch{}
	queueDebit(b, g.From, moved)
	queueCredit(b, to, moved)
	var txID int64
	if err := j.queue(b, &txID); err != nil {
		return GiftReceipt{}, err
	}
	b.Queue(`
		INSERT INTO gifts (from_account, to_account, from_phone, to_phone, points, tx_id, created_at)
		VALUES ($1, $2, $3, $4, $5, currval('journal_tx_seq'), $6) RETURNING id`,
		g.From, to, fromPhone, toPhone, g.Points, now).QueryRow(func(row pgx.Row) error { return row.Scan(&r.ID) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return GiftReceipt{}, fmt.Errorf("move points: %w", err)
	}
	if s.opts.OnGift != nil {
		if err := s.opts.OnGift(ctx, tx, r); err != nil {
			return GiftReceipt{}, fmt.Errorf("on gift: %w", err)
		}
	}
	return r, nil
}

// senderPhone is the number the recipient is told: the one the sender asked with, if it is theirs,
// else the account's first.
func senderPhone(ctx context.Context, tx pgx.Tx, g GiftRequest) (string, error) {
	if g.FromPhone != "" {
		if p, err := ParsePhone(g.FromPhone); err == nil {
			if id, err := phoneAccount(ctx, tx, p); err == nil && id == g.From {
				return p, nil
			}
		}
	}
	var p string
	err := tx.QueryRow(ctx, `SELECT phone FROM phones WHERE account_id = $1 ORDER BY added_at, phone LIMIT 1`,
		g.From).Scan(&p)
	if err != nil {
		return "", fmt.Errorf("sender phone: %w", err)
	}
	return p, nil
}

// checkGiftLimits applies the programme's rules: one gift a local day, ten distinct recipients a local
// calendar month (gifting again to someone already gifted this month is fine).
func (s *Store) checkGiftLimits(ctx context.Context, tx pgx.Tx, from, to int64, now time.Time) error {
	local := now.In(s.opts.Location)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.opts.Location)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, s.opts.Location)
	var giftsToday, recipients int
	var alreadyGifted bool
	err := tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE created_at >= $2),
		       count(DISTINCT to_account),
		       coalesce(bool_or(to_account = $4), false)
		FROM gifts WHERE from_account = $1 AND created_at >= $3`,
		from, dayStart.UTC(), monthStart.UTC(), to).Scan(&giftsToday, &recipients, &alreadyGifted)
	if err != nil {
		return fmt.Errorf("gift limits: %w", err)
	}
	if giftsToday > 0 {
		return &LimitError{Rule: ErrGiftDailyLimit, AllowedAt: dayStart.AddDate(0, 0, 1).UTC()}
	}
	if recipients >= 10 && !alreadyGifted {
		return &LimitError{Rule: ErrGiftMonthlyLimit, AllowedAt: monthStart.AddDate(0, 1, 0).UTC()}
	}
	return nil
}
