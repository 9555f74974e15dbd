package ledger_test

import (
	"sync"
	"testing"

	"bonusbot/ledger"
)

// TestSweepDayOncePerDate: four replicas sweeping the same date at once burn each point once, the
// date is recorded once with what was burnt, and a later run for the date burns nothing.
func TestSweepDayOncePerDate(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	f.accrue(t, "a", "+79160000001", 50000, at(2025, 3, 14, 12, 0)) // 100 points, expires 2026-03-14
	f.accrue(t, "b", "+79160000002", 25000, at(2025, 3, 14, 9, 0))  // 50 points, expires 2026-03-14
	if _, ok, err := f.store.LastSweep(ctx); ok || err != nil {
		t.Fatalf("LastSweep before any = %v, %v; want none", ok, err)
	}
	f.clock.Set(at(2026, 3, 15, 0, 5))
	var (
		mu   sync.Mutex
		runs []ledger.SweepRun
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			r, err := f.store.SweepDay(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			runs = append(runs, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	var burnt int64
	for _, r := range runs {
		if !r.Date.Equal(date(2026, 3, 15)) {
			t.Errorf("run date = %v, want 2026-03-15", r.Date)
		}
		if !r.Done {
			burnt += r.Points
		}
	}
	if burnt != 150 {
		t.Errorf("points burnt by the runs = %d, want 150 (each point once): %+v", burnt, runs)
	}
	last, ok, err := f.store.LastSweep(ctx)
	if err != nil || !ok || !last.Date.Equal(date(2026, 3, 15)) || last.Points != 150 || last.Lots != 2 {
		t.Errorf("LastSweep = %+v, %v, %v; want 2026-03-15 with 150 points in 2 lots", last, ok, err)
	}
	f.clock.Set(at(2026, 3, 15, 18, 0))
	if again, err := f.store.SweepDay(ctx); err != nil || !again.Done || again.Points != 0 {
		t.Errorf("a second run on the same date = %+v, %v; want Done and nothing burnt", again, err)
	}
	f.clock.Set(at(2026, 3, 16, 0, 5))
	if next, err := f.store.SweepDay(ctx); err != nil || next.Done || !next.Date.Equal(date(2026, 3, 16)) {
		t.Errorf("the next date's run = %+v, %v; want a fresh run", next, err)
	}
}
