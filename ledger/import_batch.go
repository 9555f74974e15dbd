package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AccrueBatch applies events as Accrue would and returns, in order, one result and one error per
// event: the error is that event's refusal alone. The accruals apply set-based like ImportAccruals, in
// one transaction per importChunk events; the reversals then go through Accrue one by one, so a
// reversal finds an accrual sent in the same batch wherever it stands. Two accruals with one id are
// taken in batch order. The returned error is a fault that stopped the batch: a chunk applies whole or
// not at all, and a resend finds what was applied as duplicates.
func (s *Store) AccrueBatch(ctx context.Context, events []Event) ([]AccrualResult, []error, error) {
	now := s.now()
	results := make([]AccrualResult, len(events))
	errs := make([]error, len(events))
	phones := make(map[string]string)
	var rows []stagedRow
	for i, ev := range events {
		if ev.Reverses != "" {
			continue
		}
		st, err := s.stageEvent(int32(i+1), ev, now, phones) // line = position + 1
		if err != nil {
			errs[i] = fmt.Errorf("accrue %q: %w", ev.ID, err)
			continue
		}
		rows = append(rows, st)
	}
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		cr, err := withTx(ctx, s.pool, func(tx pgx.Tx) (chunkResult, error) {
			return s.importChunkTx(ctx, tx, chunk, now, true)
		})
		if err != nil {
			return results, errs, fmt.Errorf("accrue batch: %w", err)
		}
		for line, r := range cr.lines {
			results[line-1] = r
		}
		for _, rej := range cr.Rejected {
			errs[rej.Line-1] = fmt.Errorf("accrue %q: %w", rej.ID, rej.Err)
		}
	}
	for i, ev := range events {
		if ev.Reverses != "" {
			results[i], errs[i] = s.Accrue(ctx, ev)
		}
	}
	return results, errs, nil
}
