package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"bonusbot/ledger"
)

// The same confirmation pressed twice at once, with the daily limit off so that only the key can stop
// the second gift: one gift moves, and both presses get its receipt.
func TestGiftKeyRepeatedConcurrentlyGivesOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{GiftLimits: &ledger.GiftLimits{}})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 50000, now).AccountID // 100 points
	bob := f.accrue(t, "b", "+79160000002", 500, now).AccountID     // 1 point
	const presses = 8
	receipts := make([]ledger.GiftReceipt, presses)
	var wg sync.WaitGroup
	for i := range presses {
		wg.Go(func() {
			var err error
			receipts[i], err = f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "8 916 000-00-02", Points: 30, Key: "tg:1:confirm-1"})
			if err != nil {
				t.Errorf("press %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i, r := range receipts {
		if r.ID == 0 || r.ID != receipts[0].ID || r.Points != 30 || r.ToAccount != bob || len(r.Lots) != 1 || r.Lots[0].Points != 30 {
			t.Errorf("press %d receipt = %+v, want gift %d of 30 points to %d with its lot", i, r, receipts[0].ID, bob)
		}
	}
	if got := f.balance(t, alice); got != 70 {
		t.Errorf("sender balance = %d, want 70 (one gift of 30)", got)
	}
	if got := f.balance(t, bob); got != 31 {
		t.Errorf("recipient balance = %d, want 31", got)
	}
}

func TestGiftKeyReplayAndReuse(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{GiftLimits: &ledger.GiftLimits{}})
	now := f.clock.Now()
	alice := f.accrue(t, "a", "+79160000001", 50000, now).AccountID
	f.accrue(t, "b", "+79160000002", 500, now)
	f.accrue(t, "c", "+79160000003", 500, now)
	first, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 10, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	// A later retry of the committed gift, after another spend: the first gift, today's balance.
	if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000003", Points: 5}); err != nil {
		t.Fatal(err)
	}
	again, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+7 916 000 00 02", Points: 10, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Balance != 85 || fmt.Sprint(again.Lots) != fmt.Sprint(first.Lots) || !again.At.Equal(first.At) {
		t.Errorf("replay = %+v, want gift %d with lots %v and balance 85", again, first.ID, first.Lots)
	}
	reuses := []ledger.GiftRequest{
		{From: alice, To: "+79160000002", Points: 11, Key: "k"},
		{From: alice, To: "+79160000003", Points: 10, Key: "k"},
	}
	for _, g := range reuses {
		if _, err := f.store.Gift(ctx, g); !errors.Is(err, ledger.ErrIdempotencyKeyReused) {
			t.Errorf("Gift(%+v) = %v, want ErrIdempotencyKeyReused", g, err)
		}
	}
	if got := f.balance(t, alice); got != 85 {
		t.Errorf("sender balance = %d, want 85", got)
	}
}
