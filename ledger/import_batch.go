package ledger

import (
	"context"
	"fmt"
)

// AccrueBatch applies events as Accrue would and returns, in order, one result and one error per
// event: the error is that event's refusal alone, never a fault (IsRefusal holds for each). The
// accruals apply set-based like ImportAccruals, in one transaction per importChunk events; the
// reversals then go through Accrue one by one, so a reversal finds an accrual sent in the same batch
// wherever it stands. Two accruals with one id are taken in batch order.
//
// The returned error is a fault, wherever in the batch it struck, and the per-event results are then
// meaningless: billing treats a per-event refusal as final, so a fault reported as one would lose that
// event. What committed before the fault (whole chunks, single reversals) stays; a resend finds it as
// duplicates and applies the rest.
func (s *Store) AccrueBatch(ctx context.Context, events []Event) ([]AccrualResult, []error, error) {
	now := s.now()
	results := make([]AccrualResult, len(events))
	errs := make([]error, len(events))
	phones := make(map[string]string)
	var rows []stagedEvent
	for i, ev := range events {
		if ev.Reverses != "" {
			continue
		}
		st, err := stageEvent(ev, now, phones)
		if err != nil {
			errs[i] = fmt.Errorf("accrue %q: %w", ev.ID, err)
			continue
		}
		st.line = int32(i + 1) // the position, plus one
		rows = append(rows, st)
	}
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		cr, err := s.accrueChunk(ctx, chunk, now, nil) // billing resends batches: replays are common
		if err != nil {
			return results, errs, fmt.Errorf("accrue batch: %w", err)
		}
		for k, st := range chunk {
			i := st.line - 1
			results[i] = cr.results[k]
			if cr.errs[k] != nil {
				errs[i] = fmt.Errorf("accrue %q: %w", st.id, cr.errs[k])
			}
		}
	}
	for i, ev := range events {
		if ev.Reverses == "" {
			continue
		}
		results[i], errs[i] = s.Accrue(ctx, ev)
		if errs[i] != nil && !IsRefusal(errs[i]) {
			return results, errs, fmt.Errorf("accrue batch: %w", errs[i])
		}
	}
	return results, errs, nil
}
