package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"bonusbot/ledger"
)

// TestOnRedeemJoinsTheOrder: the hook runs in the order's transaction, so an order exists exactly when
// its hook's write does; a replayed key places nothing and runs no hook.
func TestOnRedeemJoinsTheOrder(t *testing.T) {
	t.Parallel()
	var hooked []ledger.Order
	fail := false
	f := setup(t, ledger.Options{OnRedeem: func(ctx context.Context, tx pgx.Tx, o ledger.Order) error {
		if fail {
			return errors.New("queue down")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM orders WHERE id = $1`, o.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("the hook does not see its order in the transaction: %d, %v", n, err)
		}
		hooked = append(hooked, o)
		return nil
	}})
	stock := int64(1)
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 texts", Cost: 30, Stock: &stock, Active: true}}); err != nil {
		t.Fatal(err)
	}
	acct := f.accrue(t, "a", "+79160000001", 50000, at(2026, 3, 1, 12, 0)).AccountID // 100 points

	fail = true
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "22", Key: "k1"}); err == nil {
		t.Fatal("Redeem with a failing hook succeeded")
	}
	if got := f.balance(t, acct); got != 100 {
		t.Errorf("balance after a refused order = %d, want 100", got)
	}
	fail = false
	o, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "22", Key: "k1"})
	if err != nil {
		t.Fatal(err) // the unit of stock came back with the rollback
	}
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "22", Key: "k1"}); err != nil {
		t.Fatal(err)
	}
	if len(hooked) != 1 || hooked[0].ID != o.ID || hooked[0].Cost != 30 || hooked[0].AccountID != acct {
		t.Errorf("hook saw %+v, want the one order %+v", hooked, o)
	}

	d, err := f.store.OrderDetails(ctx, o.ID)
	if err != nil || d.Status != "placed" || d.Item.TitleEN != "50 texts" || d.Phone != "+79160000001" || d.CreatedAt.IsZero() {
		t.Errorf("OrderDetails = %+v, %v", d, err)
	}
	if _, err := f.store.OrderDetails(ctx, 999999); !errors.Is(err, ledger.ErrUnknownOrder) {
		t.Errorf("OrderDetails(unknown) = %v, want ErrUnknownOrder", err)
	}
	if ids, err := f.store.PlacedOrders(ctx, f.clock.Now(), 10); err != nil || len(ids) != 0 {
		t.Errorf("PlacedOrders before the order's time = %v, %v; want none", ids, err)
	}
	f.clock.Add(10 * time.Minute)
	if ids, err := f.store.PlacedOrders(ctx, f.clock.Now(), 10); err != nil || len(ids) != 1 || ids[0] != o.ID {
		t.Errorf("PlacedOrders = %v, %v; want [%d]", ids, err, o.ID)
	}
	if _, err := f.store.CompleteOrder(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.PlacedOrders(ctx, f.clock.Now(), 10); len(ids) != 0 {
		t.Errorf("PlacedOrders after completion = %v", ids)
	}
}
