package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"bonusbot/ledger"
)

func addItem(t *testing.T, f fixture, code string, cost int64, stock *int64) {
	t.Helper()
	err := f.store.UpsertItems(ctx, []ledger.Item{{Code: code, Category: "sms", TitleRU: "100 SMS", TitleEN: "100 texts", Cost: cost, Stock: stock, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRedeemSpendsSoonestFirst(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	acct := f.accrue(t, "late", "+79160000001", 50000, now).AccountID  // 100, expires 2027-03-14
	f.accrue(t, "early", "+79160000001", 50000, now.AddDate(0, -3, 0)) // 100, expires 2026-12-14
	addItem(t, f, "23", 150, nil)
	o, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "23"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Balance != 50 || o.Status != "placed" || o.Cost != 150 {
		t.Errorf("order = %+v", o)
	}
	want := []ledger.Lot{{ExpiresOn: date(2027, 3, 14), Points: 50}}
	if got := f.lots(t, acct); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lots = %v, want %v", got, want)
	}
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "23"}); !errors.Is(err, ledger.ErrInsufficientPoints) {
		t.Errorf("second redeem = %v, want ErrInsufficientPoints", err)
	}
}

func TestRedeemIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 500000, f.clock.Now()).AccountID
	addItem(t, f, "23", 300, nil)
	first, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "23", Key: "tap-1"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "23", Key: "tap-1"})
	if err != nil || second.ID != first.ID || second.Balance != 700 {
		t.Errorf("repeat = %+v, %v; want order %d with balance 700", second, err, first.ID)
	}
}

func TestRedeemStockIsNeverOversold(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	var accounts []int64
	for i := range 10 {
		accounts = append(accounts, f.accrue(t, fmt.Sprint("a", i), fmt.Sprintf("+791600000%02d", i), 50000, f.clock.Now()).AccountID)
	}
	three := int64(3)
	addItem(t, f, "77", 10, &three)
	var wg sync.WaitGroup
	var mu sync.Mutex
	placed, outOfStock := 0, 0
	for _, acct := range accounts {
		wg.Go(func() {
			_, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "77"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case errors.Is(err, ledger.ErrOutOfStock):
				outOfStock++
			default:
				t.Errorf("redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if placed != 3 || outOfStock != 7 {
		t.Errorf("placed %d, out of stock %d; want 3 and 7", placed, outOfStock)
	}
}

func TestRedeemRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 500000, f.clock.Now()).AccountID
	zero := int64(0)
	addItem(t, f, "1", 10, &zero)
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "2", Category: "sms", TitleRU: "x", TitleEN: "x", Cost: 10}}); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]error{"1": ledger.ErrOutOfStock, "2": ledger.ErrItemUnavailable, "3": ledger.ErrUnknownItem} {
		if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: code}); !errors.Is(err, want) {
			t.Errorf("Redeem(%s) = %v, want %v", code, err, want)
		}
	}
	if got := f.balance(t, acct); got != 1000 {
		t.Errorf("refusals changed the balance: %d", got)
	}
}

func TestFailedOrderIsRefundedIntoItsLots(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()                                                                  // 2026-03-14
	acct := f.accrue(t, "old", "+79160000001", 50000, now.AddDate(0, -11, -10)).AccountID // 100, expires 2026-04-04
	f.accrue(t, "new", "+79160000001", 50000, now)                                        // 100, expires 2027-03-14
	one := int64(1)
	addItem(t, f, "23", 150, &one)
	a, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "23"})
	if err != nil {
		t.Fatal(err)
	}
	// The order fails after the first lot's date has passed: its 100 points come back with 30 days to
	// live instead of burning; the other 50 go back to their own lot.
	f.clock.Set(at(2026, 4, 10, 12, 0))
	o, err := f.store.FailOrder(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != "failed" || o.Balance != 200 {
		t.Errorf("failed order = %+v, want status failed and balance 200", o)
	}
	want := []ledger.Lot{{ExpiresOn: date(2026, 5, 10), Points: 100}, {ExpiresOn: date(2027, 3, 14), Points: 100}}
	if got := f.lots(t, acct); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lots = %v, want %v", got, want)
	}
	if _, err := f.store.FailOrder(ctx, a.ID); !errors.Is(err, ledger.ErrOrderSettled) {
		t.Errorf("second FailOrder = %v, want ErrOrderSettled", err)
	}
	if it, _ := f.store.Item(ctx, "23"); it.Stock == nil || *it.Stock != 1 {
		t.Errorf("stock after refund = %v, want 1", it.Stock)
	}
	if _, err := f.store.CompleteOrder(ctx, 999); !errors.Is(err, ledger.ErrUnknownOrder) {
		t.Errorf("CompleteOrder(unknown) = %v", err)
	}
}
