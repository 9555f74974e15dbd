package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Event is a billing event: an accrual (Phone, Category and Amount or Points) or a reversal of an
// earlier accrual (Reverses).
type Event struct {
	ID         string
	Phone      string
	Category   string
	Amount     *int64 // kopecks spent; points come from the category's earn rule
	Points     *int64 // a fixed award instead of an amount
	Reverses   string // id of the accrual this event claws back
	OccurredAt time.Time
}

// AccrualResult says what an event did.
type AccrualResult struct {
	Duplicate bool  // the event was seen before; nothing changed
	AccountID int64 //
	Points    int64 // awarded (accrual) or clawed back (reversal)
	Debt      int64 // of Points, what a reversal could not take and left as debt
}

// Accrue applies a billing event once. Replaying an event id returns Duplicate and changes nothing.
// An accrual for an unknown phone enrols it. Refusals: ErrInvalidEvent, ErrInvalidPhone,
// ErrInvalidAmount, ErrUnknownCategory, ErrEventConflict, ErrExpiredEvent, ErrUnknownEvent,
// ErrAlreadyReversed, ErrAccountBlocked.
func (s *Store) Accrue(ctx context.Context, ev Event) (AccrualResult, error) {
	now := s.now()
	r, err := withTx(ctx, s.pool, func(tx pgx.Tx) (AccrualResult, error) {
		return s.accrueTx(ctx, tx, ev, now)
	})
	if err != nil {
		return AccrualResult{}, fmt.Errorf("accrue %q: %w", ev.ID, err)
	}
	return r, nil
}

// storedEvent is an event as billing_events keeps it, for duplicate detection.
type storedEvent struct {
	phone, category, reverses *string
	amount, points            *int64
	occurredAt                time.Time
	accountID, awarded        int64
}

func (s *Store) accrueTx(ctx context.Context, tx pgx.Tx, ev Event, now time.Time) (AccrualResult, error) {
	if err := checkEvent(ev, now); err != nil {
		return AccrualResult{}, err
	}
	if ev.Reverses != "" {
		return s.reverseTx(ctx, tx, ev, now)
	}
	phone, err := ParsePhone(ev.Phone)
	if err != nil {
		return AccrualResult{}, err
	}
	points, err := earnedPoints(ctx, tx, ev)
	if err != nil {
		return AccrualResult{}, err
	}
	if dup, err := duplicateOf(ctx, tx, ev, phone); dup != nil || err != nil {
		return derefResult(dup), err
	}
	if s.bornExpired(ev.OccurredAt, now) {
		return AccrualResult{}, ErrExpiredEvent
	}
	accountID, err := phoneAccount(ctx, tx, phone)
	if err != nil {
		return AccrualResult{}, err
	}
	if accountID == 0 {
		if accountID, err = enrolPhone(ctx, tx, phone); err != nil {
			return AccrualResult{}, err
		}
	}
	locked, err := lockAccounts(ctx, tx, accountID)
	if err != nil {
		return AccrualResult{}, err
	}
	acct := locked[accountID]
	if acct.blocked {
		return AccrualResult{}, ErrAccountBlocked
	}
	expiresOn := s.ExpiryFor(ev.OccurredAt)
	// An accrual is dated by its event: history shows when the points were earned. received_at keeps
	// when billing sent it.
	j := journalTx{kind: "accrual", detail: ev.Category, at: ev.OccurredAt}
	payDebt := min(points, acct.debt)
	j.add(bookIssuance, 0, time.Time{}, -points)
	j.add(bookDebt, accountID, time.Time{}, payDebt)
	j.add(bookLot, accountID, expiresOn, points-payDebt)
	if payDebt > 0 {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET debt = debt - $2 WHERE id = $1`, accountID, payDebt); err != nil {
			return AccrualResult{}, fmt.Errorf("pay debt: %w", err)
		}
	}
	if points > payDebt {
		if err := creditLots(ctx, tx, accountID, []Lot{{expiresOn, points - payDebt}}); err != nil {
			return AccrualResult{}, err
		}
	}
	txID, err := j.write(ctx, tx)
	if err != nil {
		return AccrualResult{}, err
	}
	if err := insertEvent(ctx, tx, ev, phone, accountID, points, &expiresOn, txID, now); err != nil {
		return AccrualResult{}, err
	}
	return AccrualResult{AccountID: accountID, Points: points}, nil
}

// earnedPoints applies the category's earn rule: floor(kopecks / rate), or the fixed award, at most
// MaxEventPoints. checkEvent has already checked the event's own fields.
func earnedPoints(ctx context.Context, tx pgx.Tx, ev Event) (int64, error) {
	var rate, fixed *int64
	err := tx.QueryRow(ctx, `SELECT kopecks_per_point, fixed_points FROM earn_rules WHERE category = $1`,
		ev.Category).Scan(&rate, &fixed)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %q", ErrUnknownCategory, ev.Category)
	}
	if err != nil {
		return 0, fmt.Errorf("earn rule: %w", err)
	}
	switch {
	case ev.Points != nil:
		return *ev.Points, nil
	case ev.Amount != nil:
		if rate == nil {
			return 0, fmt.Errorf("%w: category %q awards fixed points, not per amount", ErrInvalidEvent, ev.Category)
		}
		return *ev.Amount / *rate, checkEarned(*ev.Amount / *rate)
	case fixed != nil:
		return *fixed, checkEarned(*fixed)
	}
	return 0, fmt.Errorf("%w: amount is required for %q", ErrInvalidEvent, ev.Category)
}

// duplicateOf returns the earlier result if ev.ID was seen with the same content, ErrEventConflict if
// it was seen with other content, and nil, nil for a new id.
func duplicateOf(ctx context.Context, tx pgx.Tx, ev Event, phone string) (*AccrualResult, error) {
	var st storedEvent
	err := tx.QueryRow(ctx, `
		SELECT phone, category, amount_kopecks, points, reverses, occurred_at, account_id, awarded
		FROM billing_events WHERE id = $1`, ev.ID).Scan(
		&st.phone, &st.category, &st.amount, &st.points, &st.reverses, &st.occurredAt, &st.accountID, &st.awarded)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("event lookup: %w", err)
	}
	same := eqStr(st.phone, phone) && eqStr(st.category, ev.Category) && eqStr(st.reverses, ev.Reverses) &&
		eqInt(st.amount, ev.Amount) && eqInt(st.points, ev.Points) && st.occurredAt.Equal(ev.OccurredAt)
	if !same {
		return nil, ErrEventConflict
	}
	return &AccrualResult{Duplicate: true, AccountID: st.accountID, Points: st.awarded}, nil
}

func eqStr(stored *string, s string) bool {
	return (stored == nil && s == "") || (stored != nil && *stored == s)
}

func eqInt(stored, v *int64) bool {
	return (stored == nil) == (v == nil) && (v == nil || *stored == *v)
}

func derefResult(r *AccrualResult) AccrualResult {
	if r == nil {
		return AccrualResult{}
	}
	return *r
}

// insertEvent records the event for idempotency. Its primary key also stops a concurrent replay:
// the second insert waits for the first transaction, fails, and withTx runs it again to find the first.
func insertEvent(ctx context.Context, tx pgx.Tx, ev Event, phone string, accountID, awarded int64,
	expiresOn *time.Time, txID int64, now time.Time) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO billing_events (id, phone, category, amount_kopecks, points, reverses, occurred_at,
		                            account_id, awarded, expires_on, tx_id, received_at)
		VALUES ($1, nullif($2, ''), nullif($3, ''), $4, $5, nullif($6, ''), $7, $8, $9, $10, $11, $12)`,
		ev.ID, phone, ev.Category, ev.Amount, ev.Points, ev.Reverses, ev.OccurredAt, accountID, awarded,
		expiresOn, txID, now)
	if isCode(err, "23505") {
		return errRetry
	}
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}
