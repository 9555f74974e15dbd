package ledger

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on one billing event. Accrue, AccrueBatch and ImportAccruals all apply them through
// checkEvent and earnedPoints, so a change of a bound is one edit here.
const (
	// MaxEventIDLen is the longest event id, in bytes: billing's ids are short; a longer one is garbage.
	MaxEventIDLen = 200
	// MaxEventPoints is the most points one event may award, whether as fixed points or earned from
	// its amount: no single bill or bonus is worth more, so anything above is a billing error, and a
	// cap on points alone would let an amount mint without limit.
	MaxEventPoints = 1_000_000
	// MaxEventAmount is the largest amount one event may carry, in kopecks (10 million roubles, far
	// above any one telecom bill); it also keeps amount arithmetic far from overflow.
	MaxEventAmount = 10_000_000_00
)

// maxClockSkew is how far in the future billing's clock may be before we call an event bogus.
const maxClockSkew = time.Hour

// checkEvent applies every rule of one billing event that needs no database, with the same refusal
// on every path. It leaves out the expiry rule (bornExpired), which yields to a replay: an event
// applied yesterday and resent today is a duplicate, even if its lot has expired meanwhile.
// Refusals: ErrInvalidEvent, ErrInvalidAmount.
func checkEvent(ev Event, now time.Time) error {
	switch {
	case ev.ID == "" || len(ev.ID) > MaxEventIDLen:
		return fmt.Errorf("%w: id must be 1 to %d bytes", ErrInvalidEvent, MaxEventIDLen)
	case !storableText(ev.ID, ev.Phone, ev.Category, ev.Reverses):
		// Postgres text holds neither NUL nor invalid UTF-8: such an event would fail the whole
		// batch on every resend, and a lossy repair (U+FFFD) would make two ids one.
		return fmt.Errorf("%w: text must be valid UTF-8 without NUL bytes", ErrInvalidEvent)
	case ev.OccurredAt.IsZero():
		return fmt.Errorf("%w: occurred_at is required", ErrInvalidEvent)
	case ev.OccurredAt.After(now.Add(maxClockSkew)):
		return fmt.Errorf("%w: occurred_at is in the future", ErrInvalidEvent)
	case ev.Reverses != "":
		if ev.Phone != "" || ev.Category != "" || ev.Amount != nil || ev.Points != nil {
			return fmt.Errorf("%w: a reversal carries only id, reverses and occurred_at", ErrInvalidEvent)
		}
		return nil
	case ev.Phone == "" || ev.Category == "":
		return fmt.Errorf("%w: phone and category are required", ErrInvalidEvent)
	case ev.Amount != nil && ev.Points != nil:
		return fmt.Errorf("%w: give amount or points, not both", ErrInvalidEvent)
	case ev.Points != nil && (*ev.Points <= 0 || *ev.Points > MaxEventPoints):
		return fmt.Errorf("%w: points must be 1 to %d", ErrInvalidEvent, MaxEventPoints)
	case ev.Amount != nil && *ev.Amount < 0:
		return fmt.Errorf("%w: negative amount (send a reversal instead)", ErrInvalidAmount)
	case ev.Amount != nil && *ev.Amount > MaxEventAmount:
		return fmt.Errorf("%w: amount over %d roubles", ErrInvalidAmount, MaxEventAmount/100)
	}
	return nil
}

// storableText says whether every s is valid UTF-8 without NUL bytes.
func storableText(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}

// bornExpired says whether an accrual that occurred at would go into a lot already past its expiry
// date (usable through that local date) on the local date of now. Such points could never be spent,
// and a reversal of them could only make debt out of nothing, so the accrual is refused
// (ErrExpiredEvent): occurred_at must be no older than the expiry policy allows.
func (s *Store) bornExpired(at, now time.Time) bool {
	return s.ExpiryFor(at).Before(s.LocalDate(now))
}

// checkEarned refuses an award over MaxEventPoints, whatever the route (amount or fixed points).
func checkEarned(points int64) error {
	if points > MaxEventPoints {
		return fmt.Errorf("%w: earns %d points, more than %d for one event", ErrInvalidAmount, points, MaxEventPoints)
	}
	return nil
}
