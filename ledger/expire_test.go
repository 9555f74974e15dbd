package ledger_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"bonusbot/ledger"
)

func TestExpiryAtMoscowMidnight(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 50000, at(2025, 3, 14, 12, 0)).AccountID // expires 2026-03-14
	f.accrue(t, "b", "+79160000001", 25000, at(2025, 6, 1, 12, 0))                    // expires 2026-06-01

	// 23:59 Moscow on the expiry date (20:59 UTC): still usable, and a sweep burns nothing.
	f.clock.Set(at(2026, 3, 14, 23, 59))
	if got := f.balance(t, acct); got != 150 {
		t.Errorf("balance on the last day = %d, want 150", got)
	}
	if r, err := f.store.Expire(ctx, f.clock.Now(), 0); err != nil || r.Points != 0 {
		t.Errorf("sweep on the last day = %+v, %v; want nothing burnt", r, err)
	}
	// 00:00 Moscow the next day is 21:00 UTC on the 14th: in UTC it is still the expiry date, but it burns.
	f.clock.Set(time.Date(2026, 3, 14, 21, 0, 0, 0, time.UTC))
	if got := f.balance(t, acct); got != 50 {
		t.Errorf("balance after Moscow midnight, before the sweep = %d, want 50", got)
	}
	r, err := f.store.Expire(ctx, f.clock.Now(), 0)
	if err != nil || r.Points != 100 || r.Lots != 1 {
		t.Errorf("sweep = %+v, %v; want 100 points in 1 lot", r, err)
	}
	if again, _ := f.store.Expire(ctx, f.clock.Now(), 0); again.Lots != 0 {
		t.Errorf("second sweep = %+v, want nothing", again)
	}
	hist, _ := f.store.History(ctx, acct, 0, 1)
	if len(hist) != 1 || hist[0].Kind != "expiry" || hist[0].Points != -100 {
		t.Errorf("history = %+v, want expiry of 100", hist)
	}
}

func TestCalendarYearExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{Expiry: ledger.ExpiryCalendarYear})
	f.clock.Set(at(2026, 12, 31, 12, 0))
	acct := f.accrue(t, "jan", "+79160000001", 50000, at(2026, 1, 10, 12, 0)).AccountID
	f.accrue(t, "dec", "+79160000001", 25000, at(2026, 12, 31, 11, 0))
	if b, _ := f.store.Balance(ctx, acct); b.Points != 150 || b.NextBurn == nil || !b.NextBurn.On.Equal(date(2026, 12, 31)) || b.NextBurn.Points != 150 {
		t.Errorf("balance = %+v, want 150 burning on 31 December", b)
	}
	if r, _ := f.store.Expire(ctx, at(2027, 1, 1, 0, 0), 0); r.Points != 150 {
		t.Errorf("new-year sweep burnt %d, want 150", r.Points)
	}
}

func TestForecastAndNextBurn(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()                                                              // 2026-03-14
	acct := f.accrue(t, "a", "+79160000001", 50000, now.AddDate(0, -11, 0)).AccountID // 2026-04-14
	f.accrue(t, "b", "+79160000001", 25000, now.AddDate(0, -10, 0))                   // 2026-05-14
	f.accrue(t, "c", "+79160000001", 5000, now.AddDate(0, -6, 0))                     // 2026-09-14
	burns, err := f.store.Forecast(ctx, acct, 90)
	if err != nil {
		t.Fatal(err)
	}
	if len(burns) != 2 || burns[0].Points != 100 || !burns[1].On.Equal(date(2026, 5, 14)) {
		t.Errorf("Forecast(90) = %+v", burns)
	}
	b, _ := f.store.Balance(ctx, acct)
	if b.Points != 160 || b.NextBurn == nil || b.NextBurn.Points != 100 || !b.NextBurn.On.Equal(date(2026, 4, 14)) {
		t.Errorf("Balance = %+v", b)
	}
}

// Two sweeps at once split the due lots between them and burn each point exactly once.
func TestConcurrentSweeps(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	f.clock.Set(at(2025, 2, 20, 12, 0)) // earned while live; all expired by now
	for i := range 50 {
		f.accrue(t, "e"+string(rune('A'+i)), "+79160000001", 500, at(2025, 1, 1, 12, 0).AddDate(0, 0, i))
	}
	f.clock.Set(now)
	var wg sync.WaitGroup
	results := make([]ledger.ExpiryResult, 2)
	for i := range results {
		wg.Go(func() {
			r, err := f.store.Expire(ctx, f.clock.Now(), 7)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	if got := results[0].Points + results[1].Points; got != 50 {
		t.Errorf("two sweeps burnt %d points, want 50", got)
	}
}

// A backlog bigger than the table's pages is swept in physical order by two concurrent sweeps (each
// with its own workers) while a gift moves live points; every due point burns exactly once.
func TestBacklogSweepIsExact(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{GiftLimits: &ledger.GiftLimits{}})
	var csv strings.Builder
	csv.WriteString("id,phone,category,amount,points,occurred_at\n")
	var due int64
	for a := range 300 {
		for k := range 10 {
			when := at(2024, 6, 1, 12, 0).AddDate(0, 0, a%7+k*20) // all expired by 2026-03-14
			fmt.Fprintf(&csv, "e%d-%d,+7916%07d,referral,,%d,%s\n", a, k, a, k+1, when.Format(time.RFC3339))
			due += int64(k + 1)
		}
	}
	now := f.clock.Now()
	f.clock.Set(at(2024, 12, 10, 12, 0)) // imported while live
	sum, err := f.store.ImportAccruals(ctx, strings.NewReader(csv.String()), nil)
	if err != nil || sum.Accepted != 3000 {
		t.Fatalf("import = %d accepted, %d rejected, %v; want 3000 accepted", sum.Accepted, len(sum.Rejected), err)
	}
	f.clock.Set(now)
	live := f.accrue(t, "live", "+79170000001", 50000, f.clock.Now()).AccountID
	f.accrue(t, "live2", "+79170000002", 50000, f.clock.Now())
	var wg sync.WaitGroup
	results := make([]ledger.ExpiryResult, 2)
	for i := range results {
		wg.Go(func() {
			r, err := f.store.Expire(ctx, f.clock.Now(), 0)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Go(func() {
		if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: live, To: "+79170000002", Points: 30}); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if got := results[0].Points + results[1].Points; got != due {
		t.Errorf("sweeps burnt %d points, want %d", got, due)
	}
	if got := f.balance(t, live); got != 70 {
		t.Errorf("live balance = %d, want 70", got)
	}
}
