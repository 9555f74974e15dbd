package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExpiryResult counts what a sweep burned.
type ExpiryResult struct {
	Lots   int64 // lots removed (including empty ones)
	Points int64 // points burned
}

// DefaultExpiryBatch bounds how many lots one sweep transaction locks.
const DefaultExpiryBatch = 5000

// Expire burns every lot whose date is before the local date of at, in transactions of at most batch
// lots. It locks lots with SKIP LOCKED and no account locks, so it never waits on spending or on another
// sweep: two sweeps at once split the work, and a rerun finds nothing left to do.
func (s *Store) Expire(ctx context.Context, at time.Time, batch int) (ExpiryResult, error) {
	if batch <= 0 {
		batch = DefaultExpiryBatch
	}
	today := s.LocalDate(at)
	var total ExpiryResult
	for {
		r, err := withTx(ctx, s.pool, func(tx pgx.Tx) (ExpiryResult, error) {
			return s.expireBatchTx(ctx, tx, today, batch)
		})
		if err != nil {
			return total, fmt.Errorf("expire: %w", err)
		}
		total.Lots += r.Lots
		total.Points += r.Points
		if r.Lots < int64(batch) {
			return total, nil
		}
	}
}

func (s *Store) expireBatchTx(ctx context.Context, tx pgx.Tx, today time.Time, batch int) (ExpiryResult, error) {
	var txID int64
	if err := tx.QueryRow(ctx, "SELECT nextval('journal_tx_seq')").Scan(&txID); err != nil {
		return ExpiryResult{}, fmt.Errorf("journal: %w", err)
	}
	now := s.now()
	var r ExpiryResult
	// One statement: pick due lots, delete them, and journal each burnt lot against the expiry book.
	err := tx.QueryRow(ctx, `
		WITH due AS (
			SELECT id FROM lots WHERE expires_on < $1
			ORDER BY expires_on LIMIT $2 FOR UPDATE SKIP LOCKED
		), gone AS (
			DELETE FROM lots USING due WHERE lots.id = due.id
			RETURNING lots.account_id, lots.expires_on, lots.points
		), burnt AS (
			INSERT INTO journal (tx_id, kind, book, account_id, expires_on, points, at)
			SELECT $3::bigint, 'expiry', 'lot', account_id, expires_on, -points, $4::timestamptz FROM gone WHERE points > 0
			UNION ALL
			SELECT $3::bigint, 'expiry', 'expiry', NULL, NULL, sum(points), $4::timestamptz FROM gone HAVING sum(points) > 0
			RETURNING book, points
		)
		SELECT (SELECT count(*) FROM gone), coalesce((SELECT sum(points) FROM burnt WHERE book = 'expiry'), 0)`,
		today, batch, txID, now).Scan(&r.Lots, &r.Points)
	if err != nil {
		return ExpiryResult{}, fmt.Errorf("sweep: %w", err)
	}
	return r, nil
}
