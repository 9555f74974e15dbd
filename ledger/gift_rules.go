package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxGift is the most points one gift may carry: the programme's rule, the same on every channel.
const MaxGift = 3000

// The programme's limits on how often one may gift: one gift a local day, and at most ten distinct
// recipients a local calendar month (gifting again to someone already gifted this month is fine).
const (
	GiftsPerDay            = 1
	GiftRecipientsPerMonth = 10
)

// GiftLimits are how often one sender may gift. A zero field sets no limit of its kind.
type GiftLimits struct {
	PerDay             int // gifts a local day
	RecipientsPerMonth int // distinct recipients a local calendar month
}

// ProgrammeGiftLimits are the programme's limits, what a Store applies unless Options.GiftLimits says otherwise.
var ProgrammeGiftLimits = GiftLimits{PerDay: GiftsPerDay, RecipientsPerMonth: GiftRecipientsPerMonth}

// none says whether the limits never refuse, so there is no history to read.
func (l GiftLimits) none() bool { return l.PerDay <= 0 && l.RecipientsPerMonth <= 0 }

// senderHistory is what the gift limits need to know of a sender's gifts this local month.
type senderHistory struct {
	gifts []pastGift // this local month, oldest first
}

type pastGift struct {
	at time.Time
	to int64
}

// giftRules apply GiftLimits in the business time zone. They are pure so that a batch of gifts can
// apply them in memory, gift after gift.
type giftRules struct {
	loc    *time.Location
	limits GiftLimits
}

// check returns nil or a *LimitError saying which limit refuses and when it allows again.
func (r giftRules) check(h senderHistory, to int64, now time.Time) error {
	local := now.In(r.loc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, r.loc)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, r.loc)
	recipients := map[int64]bool{}
	today := 0
	for _, g := range h.gifts {
		if g.at.Before(monthStart) {
			continue
		}
		if !g.at.Before(dayStart) {
			today++
		}
		recipients[g.to] = true
	}
	if r.limits.PerDay > 0 && today >= r.limits.PerDay {
		return &LimitError{Rule: ErrGiftDailyLimit, AllowedAt: dayStart.AddDate(0, 0, 1).UTC()}
	}
	if r.limits.RecipientsPerMonth > 0 && len(recipients) >= r.limits.RecipientsPerMonth && !recipients[to] {
		return &LimitError{Rule: ErrGiftMonthlyLimit, AllowedAt: monthStart.AddDate(0, 1, 0).UTC()}
	}
	return nil
}

// monthStart is the first instant of now's local month, the oldest gift the limits look at.
func (r giftRules) monthStart(now time.Time) time.Time {
	local := now.In(r.loc)
	return time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, r.loc).UTC()
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
	rules := s.giftRules()
	if rules.limits.none() {
		return nil
	}
	now := s.now()
	rows, err := s.pool.Query(ctx, giftHistoryQuery, []int64{from}, rules.monthStart(now))
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
	return rules.check(h, to, now)
}
