package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// reverseTx claws back an earlier accrual: first from the lot it went into, then soonest-expiring
// lots; what the account no longer holds becomes debt, never a negative balance.
func (s *Store) reverseTx(ctx context.Context, tx pgx.Tx, ev Event, now time.Time) (AccrualResult, error) {
	if ev.Phone != "" || ev.Category != "" || ev.Amount != nil || ev.Points != nil {
		return AccrualResult{}, fmt.Errorf("%w: a reversal carries only id, reverses and occurred_at", ErrInvalidEvent)
	}
	if dup, err := duplicateOf(ctx, tx, ev, ""); dup != nil || err != nil {
		return derefResult(dup), err
	}
	var (
		accountID, awarded int64
		origLot            *time.Time
		origReverses       *string
		reversedBy         *string
	)
	err := tx.QueryRow(ctx, `
		SELECT e.account_id, e.awarded, e.expires_on, e.reverses, r.id
		FROM billing_events e LEFT JOIN billing_events r ON r.reverses = e.id
		WHERE e.id = $1`, ev.Reverses).Scan(&accountID, &awarded, &origLot, &origReverses, &reversedBy)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return AccrualResult{}, fmt.Errorf("%w: %q", ErrUnknownEvent, ev.Reverses)
	case err != nil:
		return AccrualResult{}, fmt.Errorf("reversed event: %w", err)
	case origReverses != nil:
		return AccrualResult{}, fmt.Errorf("%w: %q is itself a reversal", ErrInvalidEvent, ev.Reverses)
	case reversedBy != nil:
		return AccrualResult{}, fmt.Errorf("%w: %q by %q", ErrAlreadyReversed, ev.Reverses, *reversedBy)
	}
	if _, err := lockAccounts(ctx, tx, accountID); err != nil {
		return AccrualResult{}, err
	}
	lots, err := liveLots(ctx, tx, accountID, s.LocalDate(now))
	if err != nil {
		return AccrualResult{}, err
	}
	taken := pickLots(originalLotFirst(lots, origLot), awarded)
	debt := awarded - sumLots(taken)
	j := journalTx{kind: "reversal", detail: ev.Reverses, at: ev.OccurredAt}
	j.lots(accountID, taken, -1, "")
	j.add(bookDebt, accountID, time.Time{}, -debt)
	j.add(bookIssuance, 0, time.Time{}, awarded)
	if err := debitLots(ctx, tx, accountID, taken); err != nil {
		return AccrualResult{}, err
	}
	if debt > 0 {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET debt = debt + $2 WHERE id = $1`, accountID, debt); err != nil {
			return AccrualResult{}, fmt.Errorf("record debt: %w", err)
		}
	}
	txID, err := j.write(ctx, tx)
	if err != nil {
		return AccrualResult{}, err
	}
	if err := insertEvent(ctx, tx, ev, "", accountID, awarded, nil, txID, now); err != nil {
		return AccrualResult{}, err
	}
	return AccrualResult{AccountID: accountID, Points: awarded, Debt: debt}, nil
}

// originalLotFirst moves the lot the accrual went into to the front, keeping the rest soonest-first.
func originalLotFirst(lots []Lot, orig *time.Time) []Lot {
	if orig == nil {
		return lots
	}
	ordered := make([]Lot, 0, len(lots))
	for _, l := range lots {
		if l.ExpiresOn.Equal(*orig) {
			ordered = append(ordered, l)
		}
	}
	for _, l := range lots {
		if !l.ExpiresOn.Equal(*orig) {
			ordered = append(ordered, l)
		}
	}
	return ordered
}
