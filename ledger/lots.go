package ledger

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lot is points that expire together. ExpiresOn is a calendar date (midnight UTC): the points are
// usable through that local date and burn at the next local midnight.
type Lot struct {
	ExpiresOn time.Time
	Points    int64
}

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

// mergeLots sums lots that share an expiry date, keeping first-seen order.
func mergeLots(lots []Lot) []Lot {
	var out []Lot
	for _, l := range lots {
		merged := false
		for i := range out {
			if out[i].ExpiresOn.Equal(l.ExpiresOn) {
				out[i].Points += l.Points
				merged = true
			}
		}
		if !merged {
			out = append(out, l)
		}
	}
	return out
}

// lotKey names one lot.
type lotKey struct {
	account   int64
	expiresOn time.Time
}

// lotChanges are net changes to lots, by lot. Positive points credit a lot, negative debit it.
type lotChanges map[lotKey]int64

func (c lotChanges) add(account int64, expiresOn time.Time, points int64) {
	if points != 0 {
		c[lotKey{account, expiresOn}] += points
	}
}

func (c lotChanges) addLots(account int64, lots []Lot, sign int64) {
	for _, l := range lots {
		c.add(account, l.ExpiresOn, sign*l.Points)
	}
}

// sortedKeys are the changed lots by account, then date.
func (c lotChanges) sortedKeys() []lotKey {
	return slices.SortedFunc(maps.Keys(c), func(a, b lotKey) int {
		return cmp.Or(cmp.Compare(a.account, b.account), a.expiresOn.Compare(b.expiresOn))
	})
}

// queueLotChanges adds to b the only two statements that change lots, one for all credits and one for
// all debits, in (account, date) order. A credit adds to the lot of its account and date, creating it
// if there is none; a debit only ever touches a lot that exists (the caller holds the account lock and
// has locked the lot it read), and CHECK (points >= 0) is the last guard against taking too much.
func queueLotChanges(b *pgx.Batch, changes lotChanges) {
	var credits, debits lotColumns
	for _, k := range changes.sortedKeys() {
		switch p := changes[k]; {
		case p > 0:
			credits.add(k, p)
		case p < 0:
			debits.add(k, -p)
		}
	}
	if len(credits.points) > 0 {
		b.Queue(`
			INSERT INTO lots (account_id, expires_on, points)
			SELECT * FROM unnest($1::bigint[], $2::date[], $3::bigint[])
			ON CONFLICT (account_id, expires_on) DO UPDATE SET points = lots.points + excluded.points`,
			credits.accounts, credits.dates, credits.points)
	}
	if len(debits.points) > 0 {
		b.Queue(`
			UPDATE lots SET points = lots.points - t.p
			FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS t(a, d, p)
			WHERE lots.account_id = t.a AND lots.expires_on = t.d`,
			debits.accounts, debits.dates, debits.points)
	}
}

// copyNewLots COPYs lots that cannot exist yet, those of accounts made in this transaction: a bulk
// chunk's way around the upsert of queueLotChanges, which costs Postgres twice as much as a plain COPY.
func copyNewLots(ctx context.Context, tx pgx.Tx, lots lotChanges) error {
	c := newCopyText(len(lots), 32)
	for _, k := range lots.sortedKeys() { // in key order, so the primary key's pages fill in turn
		c.int(k.account)
		c.date(k.expiresOn)
		c.int(lots[k])
		c.end()
	}
	if err := c.send(ctx, tx, "lots", "account_id", "expires_on", "points"); err != nil {
		return fmt.Errorf("lots: %w", err)
	}
	return nil
}

type lotColumns struct {
	accounts []int64
	dates    []time.Time
	points   []int64
}

func (c *lotColumns) add(k lotKey, points int64) {
	c.accounts, c.dates, c.points = append(c.accounts, k.account), append(c.dates, k.expiresOn), append(c.points, points)
}

func lotArrays(lots []Lot) ([]time.Time, []int64) {
	dates := make([]time.Time, len(lots))
	points := make([]int64, len(lots))
	for i, l := range lots {
		dates[i], points[i] = l.ExpiresOn, l.Points
	}
	return dates, points
}
