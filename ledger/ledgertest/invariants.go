package ledgertest

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TB is the part of testing.TB the checks need; *rapid.T has it too.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// CheckInvariants fails t unless the ledger in pool is consistent: every journal transaction's double
// entries (journal_entries: each line, and its contra book's entry) sum to zero, every lot equals the
// sum of its entries (so balance = sum of lots = issued − redeemed − expired ± adjustments), every
// account's debt equals its debt entries, and nothing is negative.
func CheckInvariants(t TB, pool *pgxpool.Pool) {
	t.Helper()
	checks := []struct {
		name, query string
	}{
		{"unbalanced journal transactions", `SELECT count(*) FROM (SELECT tx_id FROM journal_entries GROUP BY tx_id HAVING sum(points) <> 0) x`},
		{"lots that differ from their journal entries", `
			SELECT count(*) FROM (
				SELECT account_id, expires_on, sum(points) AS points FROM journal_entries WHERE book = 'lot' GROUP BY 1, 2
			) j FULL JOIN lots l USING (account_id, expires_on)
			WHERE coalesce(j.points, 0) <> coalesce(l.points, 0)`},
		{"debts that differ from their journal entries", `
			SELECT count(*) FROM accounts a
			LEFT JOIN (SELECT account_id, -sum(points) AS debt FROM journal_entries WHERE book = 'debt' GROUP BY 1) j ON j.account_id = a.id
			WHERE a.debt <> coalesce(j.debt, 0)`},
		{"negative lots or debts", `SELECT (SELECT count(*) FROM lots WHERE points < 0) + (SELECT count(*) FROM accounts WHERE debt < 0)`},
	}
	for _, c := range checks {
		var n int64
		if err := pool.QueryRow(context.Background(), c.query).Scan(&n); err != nil {
			t.Fatalf("invariants: %s: %v", c.name, err)
		}
		if n != 0 {
			t.Errorf("invariants: %d %s", n, c.name)
		}
	}
}
