package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SweepRun is the record of the daily sweep of one local date.
type SweepRun struct {
	Date     time.Time // the local date, as midnight UTC
	Done     bool      // true when an earlier run had already finished this date: nothing was burnt now
	Finished time.Time
	ExpiryResult
}

// SweepDay runs the daily expiry sweep for the local date of now, once: a date already finished is
// not swept again (Done). A run that fails leaves the date started, and the next call for it sweeps
// again; the sweep skips what is already burnt, so a retry, or two replicas running at once, burn each
// point once. What each run burnt adds up in the date's record. The record commits apart from the
// sweep's own transactions (see Expire).
func (s *Store) SweepDay(ctx context.Context) (SweepRun, error) {
	now := s.now()
	run := SweepRun{Date: s.LocalDate(now)}
	var finished *time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO expiry_sweeps (local_date, started_at) VALUES ($1, $2)
		ON CONFLICT (local_date) DO UPDATE SET runs = expiry_sweeps.runs + 1
		RETURNING finished_at`, run.Date, now).Scan(&finished)
	if err != nil {
		return run, fmt.Errorf("ledger: sweep day: %w", err)
	}
	if finished != nil {
		run.Done, run.Finished = true, *finished
		return run, nil
	}
	r, err := s.Expire(ctx, now, 0)
	if err != nil {
		return run, fmt.Errorf("ledger: sweep day: %w", err)
	}
	run.ExpiryResult = r
	err = s.pool.QueryRow(ctx, `
		UPDATE expiry_sweeps SET finished_at = coalesce(finished_at, $2), lots = lots + $3, points = points + $4
		WHERE local_date = $1 RETURNING finished_at`, run.Date, s.now(), r.Lots, r.Points).Scan(&run.Finished)
	if err != nil {
		return run, fmt.Errorf("ledger: sweep day: record: %w", err)
	}
	return run, nil
}

// LastSweep is the latest finished daily sweep, or ok false if none has finished yet.
func (s *Store) LastSweep(ctx context.Context) (run SweepRun, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `
		SELECT local_date, finished_at, lots, points FROM expiry_sweeps
		WHERE finished_at IS NOT NULL ORDER BY local_date DESC LIMIT 1`).
		Scan(&run.Date, &run.Finished, &run.Lots, &run.Points)
	if errors.Is(err, pgx.ErrNoRows) {
		return SweepRun{}, false, nil
	}
	if err != nil {
		return SweepRun{}, false, fmt.Errorf("ledger: last sweep: %w", err)
	}
	run.Done = true
	return run, true, nil
}
