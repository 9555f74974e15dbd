package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExpiryResult counts what a sweep burned.
type ExpiryResult struct {
	Lots   int64 // lots removed (including empty ones)
	Points int64 // points burned
}

// DefaultExpiryBatch bounds how many lots one sweep transaction locks.
const DefaultExpiryBatch = 10000

// sweepWorkers is how many transactions a sweep runs side by side: the work is CPU-bound in Postgres,
// and SKIP LOCKED lets the workers share it without waiting on each other.
const sweepWorkers = 2

// Expire burns every lot whose date is before the local date of at, in transactions of at most batch
// lots. It locks lots with SKIP LOCKED and no account locks, so it never waits on spending or on another
// sweep: concurrent sweeps (its own workers, or another process) split the work, and a rerun finds
// nothing left to do.
func (s *Store) Expire(ctx context.Context, at time.Time, batch int) (ExpiryResult, error) {
	if batch <= 0 {
		batch = DefaultExpiryBatch
	}
	today := s.LocalDate(at)
	var (
		mu    sync.Mutex
		total ExpiryResult
		errs  []error
		wg    sync.WaitGroup
	)
	for range sweepWorkers {
		wg.Go(func() {
			r, err := s.sweep(ctx, today, batch)
			mu.Lock()
			defer mu.Unlock()
			total.Lots += r.Lots
			total.Points += r.Points
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("expire: %w", err)
	}
	return total, nil
}

// sweep is one worker. A cursor pass walks the due lots once; lots it skipped because another
// transaction held them are picked up by the next pass from the start. It ends with a pass that finds
// nothing.
func (s *Store) sweep(ctx context.Context, today time.Time, batch int) (ExpiryResult, error) {
	var total ExpiryResult
	for {
		var pass ExpiryResult
		cursor := sweepCursor{}
		for {
			r, next, err := s.expireBatch(ctx, today, batch, cursor)
			if err != nil {
				return total, err
			}
			pass.Lots += r.Lots
			pass.Points += r.Points
			if next == cursor {
				break
			}
			cursor = next
		}
		total.Lots += pass.Lots
		total.Points += pass.Points
		if pass.Lots == 0 {
			return total, nil
		}
	}
}

// sweepCursor is the last lot, by (expires_on, account_id), a sweep batch burnt.
type sweepCursor struct {
	expiresOn time.Time
	accountID int64
}

func (s *Store) expireBatch(ctx context.Context, today time.Time, batch int, after sweepCursor) (ExpiryResult, sweepCursor, error) {
	type out struct {
		r    ExpiryResult
		next sweepCursor
	}
	o, err := withTx(ctx, s.pool, func(tx pgx.Tx) (out, error) {
		var o out
		var lastOn *time.Time
		var lastAccount *int64
		// One statement: pick due lots past the cursor, delete them, and journal each burnt lot against
		// the expiry book under one journal transaction.
		err := tx.QueryRow(ctx, `
			WITH due AS (
				SELECT account_id, expires_on FROM lots
				WHERE expires_on < $1 AND (expires_on, account_id) > ($3::date, $4::bigint)
				ORDER BY expires_on, account_id LIMIT $2 FOR UPDATE SKIP LOCKED
			), gone AS (
				DELETE FROM lots USING due WHERE lots.account_id = due.account_id AND lots.expires_on = due.expires_on
				RETURNING lots.account_id, lots.expires_on, lots.points
			), txid AS (
				SELECT nextval('journal_tx_seq') AS v
			), burnt AS (
				INSERT INTO journal (tx_id, kind, book, account_id, expires_on, points, at)
				SELECT txid.v, 'expiry', 'lot', account_id, expires_on, -points, $5::timestamptz FROM gone, txid WHERE points > 0
				UNION ALL
				SELECT txid.v, 'expiry', 'expiry', NULL, NULL, sum(points), $5::timestamptz FROM gone, txid GROUP BY txid.v HAVING sum(points) > 0
				RETURNING book, points
			), last AS (
				SELECT expires_on, account_id FROM gone ORDER BY expires_on DESC, account_id DESC LIMIT 1
			)
			SELECT (SELECT count(*) FROM gone), coalesce((SELECT sum(points) FROM burnt WHERE book = 'expiry'), 0),
			       (SELECT expires_on FROM last), (SELECT account_id FROM last)`,
			today, batch, after.expiresOn, after.accountID, s.now()).Scan(&o.r.Lots, &o.r.Points, &lastOn, &lastAccount)
		if err != nil {
			return out{}, fmt.Errorf("sweep: %w", err)
		}
		o.next = after
		if lastOn != nil {
			o.next = sweepCursor{*lastOn, *lastAccount}
		}
		return o, nil
	})
	return o.r, o.next, err
}
