package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"bonusbot/ledger"
)

// Each promo code goes to one order only; an item whose pool is empty is out of stock; the order and
// the history keep the code.
func TestPromoCodesGoOneToAnOrder(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "61", Category: "partners", TitleRU: "Скидка", TitleEN: "Discount",
		Cost: 10, Active: true, HowToRU: "Назовите код на кассе", HowToEN: "Give the code at the till"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ImportPromoCodes(ctx, []ledger.PromoCode{{Item: "61", Code: "A"}, {Item: "nope", Code: "B"}}); !errors.Is(err, ledger.ErrUnknownItem) {
		t.Fatalf("import naming an unknown item = %v, want ErrUnknownItem", err)
	}
	added, err := f.store.ImportPromoCodes(ctx, []ledger.PromoCode{{Item: "61", Code: "A"}, {Item: "61", Code: "B"}, {Item: "61", Code: "C"}, {Item: "61", Code: "A"}})
	if err != nil || added != 3 {
		t.Fatalf("ImportPromoCodes = %d, %v; want 3 added", added, err)
	}
	it, err := f.store.Item(ctx, "61")
	if err != nil || !it.Coded || it.Stock == nil || *it.Stock != 3 || it.HowToRU == "" {
		t.Fatalf("item = %+v, %v; want coded with 3 in stock and its how-to", it, err)
	}
	accounts := make([]int64, 4)
	for i := range accounts {
		accounts[i] = f.accrue(t, fmt.Sprint("e", i), fmt.Sprintf("+7916000000%d", i), 50000, now).AccountID
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes, soldOut := map[string]int64{}, 0
	for i, a := range accounts {
		wg.Go(func() {
			o, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: a, Code: "61", Key: fmt.Sprint("k", i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ledger.ErrOutOfStock):
				soldOut++
			case err != nil:
				t.Errorf("redeem: %v", err)
			case codes[o.PromoCode] != 0:
				t.Errorf("code %q given twice", o.PromoCode)
			default:
				codes[o.PromoCode] = a
			}
		})
	}
	wg.Wait()
	if len(codes) != 3 || soldOut != 1 {
		t.Errorf("%d codes given and %d refused as out of stock, want 3 and 1", len(codes), soldOut)
	}
	if it, _ := f.store.Item(ctx, "61"); *it.Stock != 0 {
		t.Errorf("stock after the pool ran dry = %d", *it.Stock)
	}
	for code, a := range codes {
		ops, err := f.store.History(ctx, a, 0, 1)
		if err != nil || len(ops) != 1 || ops[0].Kind != "redeem" || ops[0].PromoCode != code {
			t.Errorf("history of %d = %+v, %v; want the redeem with code %q", a, ops, err, code)
		}
	}
}
