// Package ledger keeps the bonus points: accounts and their phones, lots that expire, and the
// append-only double-entry journal behind every change. It knows nothing of Telegram or Redis.
package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ExpiryPolicy says when a lot earned on a local date expires.
type ExpiryPolicy string

const (
	ExpiryRolling12m   ExpiryPolicy = "12m"           // D + 12 months
	ExpiryCalendarYear ExpiryPolicy = "calendar-year" // 31 December of D's year
)

// ParseExpiryPolicy accepts the values of POINTS_EXPIRY.
func ParseExpiryPolicy(s string) (ExpiryPolicy, error) {
	switch p := ExpiryPolicy(s); p {
	case ExpiryRolling12m, ExpiryCalendarYear:
		return p, nil
	}
	return "", fmt.Errorf("unknown expiry policy %q (want 12m or calendar-year)", s)
}

// Options configure a Store. The zero value means Moscow time, rolling 12 months, real clock.
type Options struct {
	Location *time.Location // business day and month; default Europe/Moscow
	Expiry   ExpiryPolicy
	Now      func() time.Time // injectable clock for tests
	// GiftLimits are how often one may gift; nil means ProgrammeGiftLimits. Benchmarks and tests may
	// set others (&GiftLimits{} sets none).
	GiftLimits *GiftLimits
	// OnGift runs inside the gift's transaction, so whatever it writes (a notice job) commits with the gift.
	OnGift func(ctx context.Context, tx pgx.Tx, g GiftReceipt) error
	// OnRedeem runs inside a new order's transaction, so its fulfilment job commits with the order.
	OnRedeem func(ctx context.Context, tx pgx.Tx, o Order) error
	// MaxAdjust bounds one support adjustment either way (SUPPORT_MAX_ADJUST); default 1000.
	MaxAdjust int64
}

// Store is the ledger on Postgres. Each exported method is one business operation, and each write
// commits in one transaction of its own unless its doc says otherwise: Gift shares a transaction with
// the gifts submitted beside it (group commit; each gift is still all-or-nothing), and AccrueBatch,
// ImportAccruals and Expire commit chunk by chunk.
type Store struct {
	pool       *pgxpool.Pool
	opts       Options
	giftLimits GiftLimits
	gifts      *giftQueue
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool, opts Options) *Store {
	if opts.Location == nil {
		loc, err := time.LoadLocation("Europe/Moscow")
		if err != nil {
			loc = time.FixedZone("MSK", 3*3600)
		}
		opts.Location = loc
	}
	if opts.Expiry == "" {
		opts.Expiry = ExpiryRolling12m
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxAdjust <= 0 {
		opts.MaxAdjust = DefaultMaxAdjust
	}
	s := &Store{pool: pool, opts: opts, giftLimits: ProgrammeGiftLimits}
	if opts.GiftLimits != nil {
		s.giftLimits = *opts.GiftLimits // a copy: the caller's struct may change later
	}
	s.gifts = &giftQueue{store: s}
	return s
}

// Close waits until the gifts submitted so far have committed (or failed) and their queue's runners
// have ended: a gift outlives a caller that gave up, so the owner of the pool closes it only after
// this. Call it once nothing submits gifts any more; it takes at most the gift batches' own deadline.
func (s *Store) Close() {
	s.gifts.running.Wait()
}

// Pool is the store's connection pool, for readiness checks and for packages that share the database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Location is the business time zone.
func (s *Store) Location() *time.Location { return s.opts.Location }

// now reads the clock once per operation, in UTC, so every rule in it sees the same instant.
func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// LocalDate is the calendar date of t in the business time zone, as midnight UTC (how pgx reads a date).
func (s *Store) LocalDate(t time.Time) time.Time {
	y, m, d := t.In(s.opts.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ExpiryFor is the expiry date of points earned at t.
func (s *Store) ExpiryFor(t time.Time) time.Time {
	d := s.LocalDate(t)
	if s.opts.Expiry == ExpiryCalendarYear {
		return time.Date(d.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return addMonthsClamped(d, 12)
}

// addMonthsClamped adds months without Go's overflow into the next month: 29 Feb + 12 months is 28 Feb.
func addMonthsClamped(d time.Time, months int) time.Time {
	first := time.Date(d.Year(), d.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d.Day(), last), 0, 0, 0, 0, time.UTC)
}

// localMidnightAfter is the instant a lot expiring on date burns: the next local midnight.
func (s *Store) localMidnightAfter(date time.Time) time.Time {
	return time.Date(date.Year(), date.Month(), date.Day()+1, 0, 0, 0, 0, s.opts.Location).UTC()
}
