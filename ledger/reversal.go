package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// reverseTx claws back an earlier accrual. While the accrual's lot is live: first from that lot, then
// from the soonest-expiring lots; what the account no longer holds becomes debt, never a negative
// balance. Once that lot has passed its expiry date (burnt, or due at the next sweep): at most what
// the lot still holds, and no debt, since the subscriber never had the burnt points to spend.
func (s *Store) reverseTx(ctx context.Context, tx pgx.Tx, ev *stagedEvent, now time.Time) (AccrualResult, error) {
	if dup, err := duplicateOf(ctx, tx, ev); dup != nil || err != nil {
		return derefResult(dup), err
	}
	var (
		accountID, awarded int64
		origLot            *time.Time
		origReverses       *string
	)
	err := tx.QueryRow(ctx, `SELECT account_id, awarded, expires_on, reverses FROM billing_events WHERE id = $1`,
		ev.reverses).Scan(&accountID, &awarded, &origLot, &origReverses)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return AccrualResult{}, fmt.Errorf("%w: %q", ErrUnknownEvent, ev.reverses)
	case err != nil:
		return AccrualResult{}, fmt.Errorf("reversed event: %w", err)
	case origReverses != nil:
		return AccrualResult{}, fmt.Errorf("%w: %q is itself a reversal", ErrInvalidEvent, ev.reverses)
	}
	if _, err := lockAccounts(ctx, tx, accountID); err != nil {
		return AccrualResult{}, err
	}
	// Every reversal of this accrual holds this lock while it writes, so from here on no other can
	// commit, and what we read is final. One that committed while we waited may be a replay of ev
	// itself: that is a duplicate (or a conflict), never "already reversed" by its own id.
	if dup, err := reversedBy(ctx, tx, ev); dup != nil || err != nil {
		return derefResult(dup), err
	}
	var taken []Lot
	var debt int64
	if today := s.LocalDate(now); origLot != nil && origLot.Before(today) {
		held, err := lotHolding(ctx, tx, accountID, *origLot)
		if err != nil {
			return AccrualResult{}, err
		}
		taken = pickLots([]Lot{{*origLot, held}}, awarded)
	} else {
		lots, err := liveLots(ctx, tx, accountID, today)
		if err != nil {
			return AccrualResult{}, err
		}
		taken = pickLots(originalLotFirst(lots, origLot), awarded)
		debt = awarded - sumLots(taken)
	}
	clawed := sumLots(taken) + debt
	var txIDs []int64
	if err := tx.QueryRow(ctx, txIDsQuery, 1).Scan(&txIDs); err != nil {
		return AccrualResult{}, fmt.Errorf("tx id: %w", err)
	}
	j := journalTx{kind: "reversal", detail: ev.reverses, at: ev.occurredAt}
	j.postLots(bookIssuance, accountID, taken, -1)
	j.post(bookIssuance, accountID, time.Time{}, -debt)
	debits := lotChanges{}
	debits.addLots(accountID, taken, -1)
	events := eventRows{receivedAt: now}
	events.add(eventRow{ev: ev, accountID: accountID, awarded: clawed, txID: txIDs[0]})
	b := &pgx.Batch{}
	queueLotChanges(b, debits)
	if debt > 0 {
		b.Queue(`UPDATE accounts SET debt = debt + $2 WHERE id = $1`, accountID, debt)
	}
	if err := queueJournals(b, []journalTx{j}, txIDs); err != nil {
		return AccrualResult{}, err
	}
	events.queue(b)
	if err := sendWrites(ctx, tx, b); err != nil {
		return AccrualResult{}, err
	}
	return AccrualResult{AccountID: accountID, Points: clawed, Debt: debt}, nil
}

// reversedBy refuses ev if the accrual it reverses was already reversed by another event, and returns
// the first result if ev itself did it. The caller holds the account lock.
func reversedBy(ctx context.Context, tx pgx.Tx, ev *stagedEvent) (*AccrualResult, error) {
	var by string
	err := tx.QueryRow(ctx, `SELECT id FROM billing_events WHERE reverses = $1`, ev.reverses).Scan(&by)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reversed by: %w", err)
	case by == ev.id:
		return duplicateOf(ctx, tx, ev)
	}
	return nil, fmt.Errorf("%w: %q by %q", ErrAlreadyReversed, ev.reverses, by)
}

// lotHolding locks one lot of the account and returns its points; 0 if the sweep has removed it.
func lotHolding(ctx context.Context, tx pgx.Tx, accountID int64, expiresOn time.Time) (int64, error) {
	var points int64
	err := tx.QueryRow(ctx, `SELECT points FROM lots WHERE account_id = $1 AND expires_on = $2 FOR UPDATE`,
		accountID, expiresOn).Scan(&points)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("expired lot: %w", err)
	}
	return points, nil
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
