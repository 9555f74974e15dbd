package ledger

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// The rules of one billing event live in this file, and Accrue, AccrueBatch and ImportAccruals apply
// them all through the same code: checkEvent (the event's own fields), earnRules.earned (what it
// earns), bornExpired (too old), and settleAccrual (debt first, then the lot of its expiry date), in
// the order decideAccrual gives them. A change of a rule or a bound is one edit here.

// Bounds on one billing event.
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

// earnRule is one category's earn rule (table earn_rules): an amount earns floor(kopecks /
// kopecksPerPoint) points, or the event earns fixedPoints. Exactly one of the two is set.
type earnRule struct {
	kopecksPerPoint, fixedPoints int64
}

// earnRules are the rules by category, read once per transaction (earnRulesQuery): they are data,
// so a rate may change without a release.
type earnRules map[string]earnRule

const earnRulesQuery = `SELECT category, coalesce(kopecks_per_point, 0), coalesce(fixed_points, 0) FROM earn_rules`

func scanEarnRules(rows pgx.Rows) (earnRules, error) {
	rules := earnRules{}
	var category string
	var r earnRule
	_, err := pgx.ForEachRow(rows, []any{&category, &r.kopecksPerPoint, &r.fixedPoints}, func() error {
		rules[category] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("earn rules: %w", err)
	}
	return rules, nil
}

// earned is what ev earns by its category's rule: the event's fixed points, floor(kopecks / rate),
// or the rule's fixed award; at most MaxEventPoints whatever the route. checkEvent has already
// checked the event's own fields. Refusals: ErrUnknownCategory, ErrInvalidEvent, ErrInvalidAmount.
func (rules earnRules) earned(ev *stagedEvent) (int64, error) {
	r, ok := rules[ev.category]
	var points int64
	switch {
	case !ok:
		return 0, fmt.Errorf("%w: %q", ErrUnknownCategory, ev.category)
	case ev.points != nil:
		return *ev.points, nil
	case ev.amount != nil && r.kopecksPerPoint == 0:
		return 0, fmt.Errorf("%w: category %q awards fixed points, not per amount", ErrInvalidEvent, ev.category)
	case ev.amount != nil:
		points = *ev.amount / r.kopecksPerPoint
	case r.fixedPoints != 0:
		points = r.fixedPoints
	default:
		return 0, fmt.Errorf("%w: amount is required for %q", ErrInvalidEvent, ev.category)
	}
	if points > MaxEventPoints {
		return 0, fmt.Errorf("%w: earns %d points, more than %d for one event", ErrInvalidAmount, points, MaxEventPoints)
	}
	return points, nil
}

// decideAccrual applies the rules to one staged accrual on top of what the chunk's earlier events did,
// in the order Accrue has always applied them: what it earns; whether its id was seen before (a replay
// is a duplicate, other content a conflict); whether it is too old; its account (a phone no account
// holds gets a new one) and whether that is blocked. Then the account's debt is paid first and the
// rest goes into the lot of the event's expiry date.
func (c *chunk) decideAccrual(s *Store, ev *stagedEvent, now time.Time) accrualOutcome {
	points, err := c.rules.earned(ev)
	if err != nil {
		return accrualOutcome{err: err}
	}
	if k, ok := c.applied[ev.id]; ok {
		if !c.accruals[k].ev.same(ev) {
			return accrualOutcome{err: ErrEventConflict}
		}
		return accrualOutcome{dupOf: k + 1}
	}
	if st, ok := c.stored[ev.id]; ok {
		if !st.same(ev) {
			return accrualOutcome{err: ErrEventConflict}
		}
		return accrualOutcome{stored: &st}
	}
	if s.bornExpired(ev.occurredAt, now) {
		return accrualOutcome{err: ErrExpiredEvent}
	}
	acct := c.accounts[ev.phone]
	if acct == nil {
		acct = &chunkAccount{phone: ev.phone}
		c.accounts[ev.phone] = acct
	}
	if acct.blocked {
		return accrualOutcome{err: ErrAccountBlocked}
	}
	payDebt := min(points, acct.debt)
	acct.debt -= payDebt
	acct.paid += payDebt
	c.accruals = append(c.accruals, accrual{ev: ev, acct: acct, points: points, payDebt: payDebt, expiresOn: s.ExpiryFor(ev.occurredAt)})
	c.applied[ev.id] = len(c.accruals) - 1
	return accrualOutcome{applied: len(c.accruals)}
}
