package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"bonusbot/ledger"
)

// TestAccrualBornExpiredIsRefused: an accrual whose lot would already be past its date is refused,
// on the day after its expiry date, not on the date itself.
func TestAccrualBornExpiredIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		when time.Time
		want error
	}{
		{"14 months ago", at(2025, 1, 14, 12, 0), ledger.ErrExpiredEvent},
		{"lot expired yesterday", at(2025, 3, 13, 23, 59), ledger.ErrExpiredEvent},
		{"lot usable through today", at(2025, 3, 14, 0, 0), nil},
	}
	f := setup(t, ledger.Options{}) // the clock stands at 2026-03-14 12:00 Moscow
	for i, tt := range tests {
		_, err := f.store.Accrue(ctx, ledger.Event{ID: fmt.Sprint("e", i), Phone: "+79161234567", Category: "mobile",
			Amount: ptr(5000_00), OccurredAt: tt.when})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Accrue = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestReversalOfExpiredAccrual: once the accrual's lot has passed its date, a reversal takes at most
// what that lot still holds, leaves live lots alone and makes no debt: the burnt points were never
// the subscriber's to spend.
func TestReversalOfExpiredAccrual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		spend     bool // spend 300 of the lot while it is live
		sweep     bool // burn the lot before the reversal
		wantTaken int64
		wantLive  int64 // balance after the reversal: the live lot, untouched
	}{
		{"due, not swept yet", false, false, 1000, 500},
		{"partly spent, not swept", true, false, 700, 500},
		{"swept", false, true, 0, 500},
		{"partly spent, swept", true, true, 0, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, ledger.Options{})
			now := f.clock.Now()
			f.clock.Set(now.AddDate(-1, 0, -2))
			acct := f.accrue(t, "old", "+79161234567", 5000_00, f.clock.Now()).AccountID // 1000, expired 2 days ago
			if tt.spend {
				addItem(t, f, "300", 300, nil)
				if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "300"}); err != nil {
					t.Fatal(err)
				}
			}
			f.clock.Set(now)
			f.accrue(t, "live", "+79161234567", 2500_00, now) // 500, live
			if tt.sweep {
				if _, err := f.store.Expire(ctx, now, 0); err != nil {
					t.Fatal(err)
				}
			}
			rev, err := f.store.Accrue(ctx, ledger.Event{ID: "rev", Reverses: "old", OccurredAt: now})
			if err != nil {
				t.Fatal(err)
			}
			if rev.Points != tt.wantTaken || rev.Debt != 0 {
				t.Errorf("reversal = %+v, want %d taken and no debt", rev, tt.wantTaken)
			}
			if b, err := f.store.Balance(ctx, acct); err != nil || b.Points != tt.wantLive || b.Debt != 0 {
				t.Errorf("balance after reversal = %+v, %v; want %d and no debt", b, err, tt.wantLive)
			}
			again, err := f.store.Accrue(ctx, ledger.Event{ID: "rev", Reverses: "old", OccurredAt: now})
			if err != nil || !again.Duplicate || again.Points != tt.wantTaken {
				t.Errorf("replayed reversal = %+v, %v; want a duplicate of %d", again, err, tt.wantTaken)
			}
		})
	}
}

// TestReversalConcurrentReplays: replays of one reversal sent at once apply it once, and every other
// answer is a duplicate, never "already reversed" by the reversal's own id.
func TestReversalConcurrentReplays(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	const rounds, replays = 200, 8
	// An account per round: the replays of one reversal race each other, not 1,600 transactions queued
	// on one account's lock (which a loaded machine can hold past the statement timeout).
	for i := range rounds {
		f.accrue(t, fmt.Sprint("bill-", i), fmt.Sprintf("+7916%07d", i), 500_00, now)
	}
	var wg sync.WaitGroup
	applied := make([]int, rounds)
	var mu sync.Mutex
	for i := range rounds {
		for range replays {
			wg.Go(func() {
				r, err := f.store.Accrue(ctx, ledger.Event{ID: fmt.Sprint("refund-", i), Reverses: fmt.Sprint("bill-", i), OccurredAt: now})
				if err != nil {
					t.Errorf("replay of refund-%d: %v", i, err)
					return
				}
				if !r.Duplicate {
					mu.Lock()
					applied[i]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for i, n := range applied {
		if n != 1 {
			t.Errorf("refund-%d applied %d times, want once", i, n)
		}
	}
}
