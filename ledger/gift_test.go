package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bonusbot/ledger"
)

func TestGiftKeepsExpiryDates(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	alice := f.accrue(t, "a1", "+79160000001", 50000, now.AddDate(0, -6, 0)).AccountID // 100, expires 2026-09-14
	f.accrue(t, "a2", "+79160000001", 50000, now)                                      // 100, expires 2027-03-14
	bob := f.accrue(t, "b1", "+79160000002", 500, now).AccountID                       // 1
	r, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "8 916 000-00-02", Points: 150})
	if err != nil {
		t.Fatal(err)
	}
	if r.ToAccount != bob || r.Balance != 50 || r.FromPhone != "+79160000001" || r.ToPhone != "+79160000002" {
		t.Errorf("receipt = %+v", r)
	}
	wantBob := []ledger.Lot{{ExpiresOn: date(2026, 9, 14), Points: 100}, {ExpiresOn: date(2027, 3, 14), Points: 51}}
	if got := f.lots(t, bob); fmt.Sprint(got) != fmt.Sprint(wantBob) {
		t.Errorf("recipient lots = %v, want %v", got, wantBob)
	}
	wantAlice := []ledger.Lot{{ExpiresOn: date(2027, 3, 14), Points: 50}}
	if got := f.lots(t, alice); fmt.Sprint(got) != fmt.Sprint(wantAlice) {
		t.Errorf("sender lots = %v, want %v", got, wantAlice)
	}
	hist, err := f.store.History(ctx, bob, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Kind != "gift_in" || hist[0].Points != 150 || hist[0].Detail != "+79160000001" {
		t.Errorf("recipient history = %+v", hist)
	}
	hist, _ = f.store.History(ctx, alice, 0, 1)
	if len(hist) != 1 || hist[0].Kind != "gift_out" || hist[0].Points != -150 || hist[0].Detail != "+79160000002" {
		t.Errorf("sender history = %+v", hist)
	}
}

func TestGiftRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 2_000_000, now).AccountID // 4000 points
	f.accrue(t, "b", "+79160000002", 500, now)
	carol := f.accrue(t, "c", "+79160000003", 500, now).AccountID
	if err := f.store.SetBlocked(ctx, carol, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		to     string
		points int64
		want   error
	}{
		{"zero", "+79160000002", 0, ledger.ErrGiftAmount},
		{"over the cap", "+79160000002", 3001, ledger.ErrGiftAmount},
		{"not a phone", "hello", 10, ledger.ErrInvalidPhone},
		{"not a member", "+79169999999", 10, ledger.ErrGiftRecipient},
		{"blocked recipient", "+79160000003", 10, ledger.ErrGiftRecipient},
		{"yourself", "+79160000001", 10, ledger.ErrGiftToSelf},
	}
	for _, tt := range tests {
		if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: tt.to, Points: tt.points}); !errors.Is(err, tt.want) {
			t.Errorf("%s: Gift = %v, want %v", tt.name, err, tt.want)
		}
	}
	if got := f.balance(t, alice); got != 4000 {
		t.Errorf("refused gifts changed the balance: %d, want 4000", got)
	}
	// Over balance: spend down first, then ask for more than is left.
	if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 3000}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(24 * time.Hour)
	if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 1001}); !errors.Is(err, ledger.ErrInsufficientPoints) {
		t.Errorf("over balance: Gift = %v, want ErrInsufficientPoints", err)
	}
	if err := f.store.SetBlocked(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 1}); !errors.Is(err, ledger.ErrAccountBlocked) {
		t.Errorf("blocked sender: Gift = %v, want ErrAccountBlocked", err)
	}
}

func TestGiftDailyLimitAtMoscowMidnight(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	f.clock.Set(at(2026, 3, 14, 23, 30))
	alice := f.accrue(t, "a", "+79160000001", 50000, f.clock.Now()).AccountID
	f.accrue(t, "b", "+79160000002", 500, f.clock.Now())
	gift := func() error {
		_, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 1})
		return err
	}
	if err := gift(); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(at(2026, 3, 14, 23, 59)) // 20:59 UTC: same Moscow day
	err := gift()
	var limit *ledger.LimitError
	if !errors.Is(err, ledger.ErrGiftDailyLimit) || !errors.As(err, &limit) {
		t.Fatalf("second gift the same day = %v, want ErrGiftDailyLimit", err)
	}
	if want := at(2026, 3, 15, 0, 0); !limit.AllowedAt.Equal(want) {
		t.Errorf("AllowedAt = %v, want %v", limit.AllowedAt, want)
	}
	f.clock.Set(at(2026, 3, 15, 0, 0)) // 21:00 UTC, still 14 March in UTC but a new day in Moscow
	if err := gift(); err != nil {
		t.Errorf("gift after Moscow midnight = %v, want nil", err)
	}
}

func TestGiftMonthlyRecipientLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	f.clock.Set(at(2026, 3, 1, 0, 5))
	alice := f.accrue(t, "a", "+79160000001", 500000, f.clock.Now()).AccountID
	for i := 1; i <= 11; i++ {
		f.accrue(t, fmt.Sprint("r", i), fmt.Sprintf("+791610000%02d", i), 500, f.clock.Now())
	}
	gift := func(i int) error {
		_, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: fmt.Sprintf("+791610000%02d", i), Points: 1})
		f.clock.Add(24 * time.Hour)
		return err
	}
	for i := 1; i <= 10; i++ {
		if err := gift(i); err != nil {
			t.Fatalf("gift %d: %v", i, err)
		}
	}
	// 11 March: an eleventh person this month is refused, a repeat recipient is not.
	err := gift(11)
	var limit *ledger.LimitError
	if !errors.Is(err, ledger.ErrGiftMonthlyLimit) || !errors.As(err, &limit) || !limit.AllowedAt.Equal(at(2026, 4, 1, 0, 0)) {
		t.Fatalf("11th recipient = %v, want ErrGiftMonthlyLimit until 1 April", err)
	}
	if err := gift(3); err != nil {
		t.Errorf("repeat recipient = %v, want nil", err)
	}
	f.clock.Set(at(2026, 4, 1, 0, 0))
	if err := gift(11); err != nil {
		t.Errorf("11th recipient in April = %v, want nil", err)
	}
}

// Gifts in opposite directions lock the same two accounts; the fixed lock order means no deadlock
// and no lost point.
func TestGiftsConcurrentOppositeDirections(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{GiftLimits: &ledger.GiftLimits{}})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 500000, now).AccountID
	bob := f.accrue(t, "b", "+79160000002", 500000, now).AccountID
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			from, to := alice, "+79160000002"
			if i%2 == 1 {
				from, to = bob, "+79160000001"
			}
			_, err := f.store.Gift(ctx, ledger.GiftRequest{From: from, To: to, Points: int64(1 + i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("gift: %v", err)
		}
	}
	if sum := f.balance(t, alice) + f.balance(t, bob); sum != 2000 {
		t.Errorf("alice + bob = %d, want 2000", sum)
	}
}

// Concurrent gifts from one sender share batches; the daily limit still lets exactly one through,
// and the balance check sees the gifts before it in the same batch.
func TestConcurrentGiftsFromOneSender(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 50000, now).AccountID // 100 points
	for i := range 10 {
		f.accrue(t, fmt.Sprint("r", i), fmt.Sprintf("+791610000%02d", i), 500, now)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for i := range 10 {
		wg.Go(func() {
			_, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: fmt.Sprintf("+791610000%02d", i), Points: 60})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				results["ok"]++
			case errors.Is(err, ledger.ErrGiftDailyLimit):
				results["daily"]++
			default:
				t.Errorf("gift: %v", err)
			}
		})
	}
	wg.Wait()
	if results["ok"] != 1 || results["daily"] != 9 {
		t.Errorf("results = %v, want 1 ok and 9 refused by the daily limit", results)
	}
	if got := f.balance(t, alice); got != 40 {
		t.Errorf("sender balance = %d, want 40", got)
	}
}

func TestConcurrentGiftsNeverOverspend(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{GiftLimits: &ledger.GiftLimits{}})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 50000, now).AccountID // 100 points
	f.accrue(t, "b", "+79160000002", 500, now)
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 20 {
		wg.Go(func() {
			_, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 7})
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, ledger.ErrInsufficientPoints):
				t.Errorf("gift: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 14 { // 14 × 7 = 98 of 100
		t.Errorf("%d gifts of 7 went through, want 14", ok.Load())
	}
	if got := f.balance(t, alice); got != 2 {
		t.Errorf("sender balance = %d, want 2", got)
	}
}

func TestCheckGiftRefusesEarly(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 50000, now).AccountID
	bob := f.accrue(t, "b", "+79160000002", 500, now).AccountID
	if err := f.store.CheckGift(ctx, alice, 0); err != nil {
		t.Fatalf("CheckGift before any gift = %v", err)
	}
	if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 5}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []int64{0, bob} {
		if err := f.store.CheckGift(ctx, alice, to); !errors.Is(err, ledger.ErrGiftDailyLimit) {
			t.Errorf("CheckGift(to %d) after today's gift = %v, want ErrGiftDailyLimit", to, err)
		}
	}
	f.clock.Add(24 * time.Hour)
	if err := f.store.CheckGift(ctx, alice, bob); err != nil {
		t.Errorf("CheckGift the next day = %v", err)
	}
}

// TestCloseWaitsForGiftsInFlight: a gift whose caller gave up (its update was cancelled at shutdown)
// still commits on the queue's runner, and Close returns only once it has, so serve can close the pool
// after it without cutting that commit off.
func TestCloseWaitsForGiftsInFlight(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	alice := f.accrue(t, "a1", "+79160000001", 50000, now).AccountID
	f.accrue(t, "b1", "+79160000002", 500, now)
	holder, err := f.store.Pool().Begin(ctx) // the runner waits for alice's account until holder ends
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, alice); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.store.Gift(gone, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 40, Key: "k1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Gift by a caller that gave up = %v, want context.Canceled", err)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	f.store.Close()
	var gifts int
	if err := f.store.Pool().QueryRow(ctx, `SELECT count(*) FROM gifts`).Scan(&gifts); err != nil || gifts != 1 {
		t.Errorf("gifts committed when Close returned = %d, %v; want 1", gifts, err)
	}
}
