package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	pages, err := s.pagesToScan(ctx, today)
	if err != nil {
		return ExpiryResult{}, fmt.Errorf("expire: %w", err)
	}
	var (
		mu       sync.Mutex
		total    ExpiryResult
		errs     []error
		wg       sync.WaitGroup
		nextPage atomic.Int64
	)
	for range sweepWorkers {
		wg.Go(func() {
			r, err := s.sweepPages(ctx, today, pages, &nextPage)
			if err == nil {
				var rest ExpiryResult
				rest, err = s.sweep(ctx, today, batch)
				r.Lots, r.Points = r.Lots+rest.Lots, r.Points+rest.Points
			}
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

// sweepPageStep is how many heap pages one physical-order batch covers (about 10,000 lots).
const sweepPageStep = 100

// pagesToScan is how many heap pages to sweep in physical order first, or 0. When at least as many lots
// are due as the table has pages (a backlog, or a calendar-year new year), reading the table page by page
// touches each page once; walking the expiry index instead would touch a page per lot.
func (s *Store) pagesToScan(ctx context.Context, today time.Time) (int64, error) {
	var pages, due int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_relation_size('lots') / current_setting('block_size')::bigint`).Scan(&pages); err != nil {
		return 0, fmt.Errorf("lots size: %w", err)
	}
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM lots WHERE expires_on < $1 LIMIT $2) x`, today, pages+1).Scan(&due)
	if err != nil {
		return 0, fmt.Errorf("due lots: %w", err)
	}
	if due <= pages {
		return 0, nil
	}
	return pages, nil
}

// sweepPages burns due lots in physical order, taking page ranges from next until pages run out.
// Lots it misses (moved by an update meanwhile, or held by another transaction) are left to sweep.
func (s *Store) sweepPages(ctx context.Context, today time.Time, pages int64, next *atomic.Int64) (ExpiryResult, error) {
	var total ExpiryResult
	for {
		lo := next.Add(sweepPageStep) - sweepPageStep
		if lo >= pages {
			return total, nil
		}
		r, err := s.burn(ctx, sweepDueByPages, today, fmt.Sprintf("(%d,0)", lo), fmt.Sprintf("(%d,0)", lo+sweepPageStep))
		if err != nil {
			return total, err
		}
		total.Lots += r.Lots
		total.Points += r.Points
	}
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

const (
	// sweepDueByIndex picks the next due lots after a cursor in expiry order.
	sweepDueByIndex = `SELECT account_id, expires_on FROM lots
		WHERE expires_on < $1 AND (expires_on, account_id) > ($2::date, $3::bigint)
		ORDER BY expires_on, account_id LIMIT $4 FOR UPDATE SKIP LOCKED`
	// sweepDueByPages picks the due lots in a range of heap pages (a TID range scan).
	sweepDueByPages = `SELECT account_id, expires_on FROM lots
		WHERE ctid >= $2::tid AND ctid < $3::tid AND expires_on < $1 FOR UPDATE SKIP LOCKED`
)

func (s *Store) expireBatch(ctx context.Context, today time.Time, batch int, after sweepCursor) (ExpiryResult, sweepCursor, error) {
	r, err := s.burn(ctx, sweepDueByIndex, today, after.expiresOn, after.accountID, batch)
	next := after
	if r.last != nil {
		next = *r.last
	}
	return r.ExpiryResult, next, err
}

type burnt struct {
	ExpiryResult
	last *sweepCursor // the last lot burnt in expiry order, if any
}

// burn deletes the lots the due query picks and journals them as one expiry transaction: each lot's
// points go to the expiry book. due's parameters start at $2 ($1 is today).
func (s *Store) burn(ctx context.Context, due string, today time.Time, args ...any) (burnt, error) {
	now := s.now()
	return withTx(ctx, s.pool, func(tx pgx.Tx) (burnt, error) {
		if err := setBulkTimeout(ctx, tx); err != nil { // a backlog batch of 10,000 lots is bulk work
			return burnt{}, fmt.Errorf("sweep: %w", err)
		}
		rows, err := tx.Query(ctx, `
			WITH due AS (`+due+`)
			DELETE FROM lots USING due WHERE lots.account_id = due.account_id AND lots.expires_on = due.expires_on
			RETURNING lots.account_id, lots.expires_on, lots.points`, append([]any{today}, args...)...)
		if err != nil {
			return burnt{}, fmt.Errorf("sweep: %w", err)
		}
		var b burnt
		var l lotKey
		var points int64
		j := journalTx{kind: "expiry", at: now}
		_, err = pgx.ForEachRow(rows, []any{&l.account, &l.expiresOn, &points}, func() error {
			b.Lots++
			b.Points += points
			j.post(bookExpiry, l.account, l.expiresOn, -points)
			if b.last == nil || l.expiresOn.After(b.last.expiresOn) || l.expiresOn.Equal(b.last.expiresOn) && l.account > b.last.accountID {
				b.last = &sweepCursor{l.expiresOn, l.account}
			}
			return nil
		})
		if err != nil {
			return burnt{}, fmt.Errorf("sweep: %w", err)
		}
		if len(j.lines) > 0 {
			if _, err := j.write(ctx, tx); err != nil {
				return burnt{}, fmt.Errorf("sweep: %w", err)
			}
		}
		return b, nil
	})
}
