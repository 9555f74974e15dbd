package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockedAccount is an account row locked FOR UPDATE for the rest of the transaction.
type lockedAccount struct {
	id      int64
	blocked bool
	debt    int64
}

// lockAccounts locks the accounts in ascending id order, the one lock order every operation uses,
// so that two operations on the same pair of accounts cannot deadlock.
func lockAccounts(ctx context.Context, tx pgx.Tx, ids ...int64) (map[int64]lockedAccount, error) {
	rows, err := tx.Query(ctx,
		`SELECT id, blocked, debt FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	locked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lockedAccount, error) {
		var a lockedAccount
		err := r.Scan(&a.id, &a.blocked, &a.debt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	byID := make(map[int64]lockedAccount, len(locked))
	for _, a := range locked {
		byID[a.id] = a
	}
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			return nil, ErrUnknownAccount
		}
	}
	return byID, nil
}

// liveLots locks and returns an account's spendable lots, soonest-expiring first.
// The caller must hold the account lock.
func liveLots(ctx context.Context, tx pgx.Tx, accountID int64, today time.Time) ([]Lot, error) {
	rows, err := tx.Query(ctx, `
		SELECT expires_on, points FROM lots
		WHERE account_id = $1 AND expires_on >= $2 AND points > 0
		ORDER BY expires_on
		FOR UPDATE`, accountID, today)
	if err != nil {
		return nil, fmt.Errorf("lots: %w", err)
	}
	lots, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Lot])
	if err != nil {
		return nil, fmt.Errorf("lots: %w", err)
	}
	return lots, nil
}

func sumLots(lots []Lot) int64 {
	var n int64
	for _, l := range lots {
		n += l.Points
	}
	return n
}

// pickLots chooses points from lots in order until want is met and returns what it took
// (never more than a lot holds). It takes less than want only when the lots run out.
func pickLots(lots []Lot, want int64) []Lot {
	var taken []Lot
	for _, l := range lots {
		if want == 0 {
			break
		}
		n := min(l.Points, want)
		taken = append(taken, Lot{ExpiresOn: l.ExpiresOn, Points: n})
		want -= n
	}
	return taken
}

// debitLots subtracts taken from the account's existing lots; CHECK (points >= 0) is the last guard.
func debitLots(ctx context.Context, tx pgx.Tx, accountID int64, taken []Lot) error {
	return sendLots(ctx, tx, func(b *pgx.Batch) { queueDebit(b, accountID, taken) })
}

// creditLots adds points to the account's lots, creating a lot for a new expiry date.
func creditLots(ctx context.Context, tx pgx.Tx, accountID int64, credit []Lot) error {
	return sendLots(ctx, tx, func(b *pgx.Batch) { queueCredit(b, accountID, credit) })
}

func sendLots(ctx context.Context, tx pgx.Tx, queue func(*pgx.Batch)) error {
	b := &pgx.Batch{}
	queue(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("lots: %w", err)
	}
	return nil
}

func queueDebit(b *pgx.Batch, accountID int64, taken []Lot) {
	if len(taken) == 0 {
		return
	}
	dates, points := lotArrays(taken)
	b.Queue(`
		UPDATE lots SET points = lots.points - t.p
		FROM unnest($2::date[], $3::bigint[]) AS t(d, p)
		WHERE lots.account_id = $1 AND lots.expires_on = t.d`,
		accountID, dates, points)
}

func queueCredit(b *pgx.Batch, accountID int64, credit []Lot) {
	if len(credit) == 0 {
		return
	}
	dates, points := lotArrays(credit)
	b.Queue(`
		INSERT INTO lots (account_id, expires_on, points)
		SELECT $1, d, p FROM unnest($2::date[], $3::bigint[]) AS t(d, p)
		ON CONFLICT (account_id, expires_on) DO UPDATE SET points = lots.points + excluded.points`,
		accountID, dates, points)
}

func lotArrays(lots []Lot) ([]time.Time, []int64) {
	dates := make([]time.Time, len(lots))
	points := make([]int64, len(lots))
	for i, l := range lots {
		dates[i], points[i] = l.ExpiresOn, l.Points
	}
	return dates, points
}

// lotChange is a change to one account's lot.
type lotChange struct {
	account   int64
	expiresOn time.Time
	points    int64 // positive; the direction is the caller's
}

// queueLotChanges adds to b one statement for all debits and one for all credits, across accounts.
// Debits only ever touch lots that exist (and are locked), so they are plain updates.
func queueLotChanges(b *pgx.Batch, debits, credits []lotChange) {
	arrays := func(cs []lotChange) ([]int64, []time.Time, []int64) {
		accounts, dates, points := make([]int64, len(cs)), make([]time.Time, len(cs)), make([]int64, len(cs))
		for i, c := range cs {
			accounts[i], dates[i], points[i] = c.account, c.expiresOn, c.points
		}
		return accounts, dates, points
	}
	if len(debits) > 0 {
		a, d, p := arrays(debits)
		b.Queue(`
			UPDATE lots SET points = lots.points - t.p
			FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS t(a, d, p)
			WHERE lots.account_id = t.a AND lots.expires_on = t.d`, a, d, p)
	}
	if len(credits) > 0 {
		a, d, p := arrays(credits)
		b.Queue(`
			INSERT INTO lots (account_id, expires_on, points)
			SELECT a, d, p FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS t(a, d, p)
			ON CONFLICT (account_id, expires_on) DO UPDATE SET points = lots.points + excluded.points`, a, d, p)
	}
}
