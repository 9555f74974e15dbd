package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// senderHistory is what the gift limits need to know of a sender's gifts this local month.
type senderHistory struct {
	gifts []pastGift // this local month, oldest first
}

type pastGift struct {
	at time.Time
	to int64
}

// giftLimits are the programme's rules on how often one may gift: one gift a local day, and at most
// ten distinct recipients a local calendar month (gifting again to someone already gifted this month
// is fine). They are pure so that a batch of gifts can apply them in memory, gift after gift.
type giftLimits struct {
	loc *time.Location
}

const maxRecipientsPerMonth = 10

// check returns nil or a *LimitError saying which rule refuses and when it allows again.
func (l giftLimits) check(h senderHistory, to int64, now time.Time) error {
	local := now.In(l.loc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, l.loc)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, l.loc)
	recipients := map[int64]bool{}
	for _, g := range h.gifts {
		if g.at.Before(monthStart) {
			continue
		}
		if !g.at.Before(dayStart) {
			return &LimitError{Rule: ErrGiftDailyLimit, AllowedAt: dayStart.AddDate(0, 0, 1).UTC()}
		}
		recipients[g.to] = true
	}
	if len(recipients) >= maxRecipientsPerMonth && !recipients[to] {
		return &LimitError{Rule: ErrGiftMonthlyLimit, AllowedAt: monthStart.AddDate(0, 1, 0).UTC()}
	}
	return nil
}

// monthStart is the first instant of now's local month, the oldest gift the limits look at.
func (l giftLimits) monthStart(now time.Time) time.Time {
	local := now.In(l.loc)
	return time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, l.loc).UTC()
}

// giftHistoryQuery reads the senders' ($1) gifts since the start of the local month ($2), oldest first.
const giftHistoryQuery = `SELECT from_account, created_at, to_account FROM gifts
	WHERE from_account = ANY($1) AND created_at >= $2 ORDER BY created_at`

// scanGiftHistory appends each row of giftHistoryQuery to its sender's history.
func scanGiftHistory(rows pgx.Rows, history func(sender int64) *senderHistory) error {
	var sender int64
	var g pastGift
	_, err := pgx.ForEachRow(rows, []any{&sender, &g.at, &g.to}, func() error {
		h := history(sender)
		h.gifts = append(h.gifts, g)
		return nil
	})
	return err
}

// CheckGift says early whether account from may gift now, to the account to (0: to anyone it may
// gift at all), so a dialog can refuse before asking for a number and an amount. Gift checks again in
// its own transaction. Refusal: *LimitError wrapping ErrGiftDailyLimit or ErrGiftMonthlyLimit.
func (s *Store) CheckGift(ctx context.Context, from, to int64) error {
	if s.opts.NoGiftLimits {
		return nil
	}
	now := s.now()
	rows, err := s.pool.Query(ctx, giftHistoryQuery, []int64{from}, s.limits().monthStart(now))
	if err != nil {
		return fmt.Errorf("check gift: %w", err)
	}
	var h senderHistory
	if err := scanGiftHistory(rows, func(int64) *senderHistory { return &h }); err != nil {
		return fmt.Errorf("check gift: %w", err)
	}
	if to == 0 {
		// Before a recipient is known only the daily rule can refuse: someone already gifted this month
		// may always be gifted again.
		to = -1
		if len(h.gifts) > 0 {
			to = h.gifts[0].to
		}
	}
	return s.limits().check(h, to, now)
}
