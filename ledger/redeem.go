package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RedeemRequest asks to spend points on a catalogue item. Cost, when set, is the price the user was
// shown: a different price spends nothing. Key, when set, makes the request idempotent: a repeated key
// returns the first order (a double tap orders once).
type RedeemRequest struct {
	AccountID int64
	Code      string
	Cost      int64
	Key       string
}

// Order is a redemption.
type Order struct {
	ID        int64
	AccountID int64
	Code      string
	Cost      int64
	Status    string // placed, completed, failed
	Balance   int64  // the account's balance after the operation that returned it
	PromoCode string // a coded item's code, given to this order alone
}

// refundGrace is how long refunded points live when the lot they came from has expired meanwhile, so a
// failed order never silently burns points.
const refundGrace = 30 // days

// Redeem places an order: spends the item's cost from the soonest-expiring lots and takes one from
// stock. Refusals: ErrUnknownItem, ErrItemUnavailable, ErrOutOfStock, ErrInsufficientPoints,
// ErrAccountBlocked, ErrUnknownAccount, ErrPriceChanged, ErrIdempotencyKeyReused.
func (s *Store) Redeem(ctx context.Context, req RedeemRequest) (Order, error) {
	now := s.now()
	o, err := withTx(ctx, s.pool, func(tx pgx.Tx) (Order, error) {
		return s.redeemTx(ctx, tx, req, now)
	})
	if err != nil {
		return Order{}, fmt.Errorf("redeem %s: %w", req.Code, err)
	}
	return o, nil
}

func (s *Store) redeemTx(ctx context.Context, tx pgx.Tx, req RedeemRequest, now time.Time) (Order, error) {
	locked, err := lockAccounts(ctx, tx, req.AccountID)
	if err != nil {
		return Order{}, err
	}
	today := s.LocalDate(now)
	if req.Key != "" {
		if o, ok, err := orderByKey(ctx, tx, req); ok || err != nil {
			if err == nil {
				o.Balance, err = spendable(ctx, tx, req.AccountID, today)
			}
			return o, err
		}
	}
	if locked[req.AccountID].blocked {
		return Order{}, ErrAccountBlocked
	}
	var item Item
	err = tx.QueryRow(ctx, `SELECT cost, stock, active, coded FROM catalog_items WHERE code = $1`, req.Code).
		Scan(&item.Cost, &item.Stock, &item.Active, &item.Coded)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Order{}, ErrUnknownItem
	case err != nil:
		return Order{}, fmt.Errorf("item: %w", err)
	case !item.Active:
		return Order{}, ErrItemUnavailable
	case req.Cost != 0 && req.Cost != item.Cost:
		return Order{}, ErrPriceChanged
	}
	lots, err := liveLots(ctx, tx, req.AccountID, today)
	if err != nil {
		return Order{}, err
	}
	if sumLots(lots) < item.Cost {
		return Order{}, ErrInsufficientPoints
	}
	var promo string
	if item.Coded {
		// SKIP LOCKED: concurrent buyers take different codes instead of queueing for one.
		err := tx.QueryRow(ctx, `SELECT code FROM promo_codes WHERE item_code = $1 AND order_id IS NULL
			ORDER BY code LIMIT 1 FOR UPDATE SKIP LOCKED`, req.Code).Scan(&promo)
		if errors.Is(err, pgx.ErrNoRows) {
			return Order{}, ErrOutOfStock
		}
		if err != nil {
			return Order{}, fmt.Errorf("promo code: %w", err)
		}
	}
	if item.Stock != nil && !item.Coded {
		// Conditional decrement: the row lock it takes serialises buyers of the last unit.
		tag, err := tx.Exec(ctx, `UPDATE catalog_items SET stock = stock - 1 WHERE code = $1 AND stock > 0`, req.Code)
		if err != nil {
			return Order{}, fmt.Errorf("stock: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return Order{}, ErrOutOfStock
		}
	}
	taken := pickLots(lots, item.Cost)
	j := journalTx{kind: "redeem", detail: req.Code, at: now}
	j.postLots(bookRedemption, req.AccountID, taken, -1)
	o := Order{AccountID: req.AccountID, Code: req.Code, Cost: item.Cost, Status: "placed", Balance: sumLots(lots) - item.Cost,
		PromoCode: promo}
	// All writes in one round trip; currval ties the order to its journal transaction and its parts to it.
	b := &pgx.Batch{}
	debits := lotChanges{}
	debits.addLots(req.AccountID, taken, -1)
	queueLotChanges(b, debits)
	var txID int64
	if err := j.queue(b, &txID); err != nil {
		return Order{}, err
	}
	b.Queue(`
		INSERT INTO orders (account_id, item_code, cost, request_key, tx_id, created_at, promo_code)
		VALUES ($1, $2, $3, nullif($4, ''), currval('journal_tx_seq'), $5, nullif($6, '')) RETURNING id`,
		req.AccountID, req.Code, item.Cost, req.Key, now, promo).QueryRow(func(row pgx.Row) error { return row.Scan(&o.ID) })
	if promo != "" {
		b.Queue(`UPDATE promo_codes SET order_id = currval('orders_id_seq') WHERE item_code = $1 AND code = $2`, req.Code, promo)
	}
	dates, points := lotArrays(taken)
	b.Queue(`INSERT INTO order_parts (order_id, expires_on, points)
		SELECT currval('orders_id_seq'), d, p FROM unnest($1::date[], $2::bigint[]) AS t(d, p)`, dates, points)
	err = tx.SendBatch(ctx, b).Close()
	if isCode(err, "23505") {
		return Order{}, errRetry // the same key committed meanwhile; the rerun returns that order
	}
	if err != nil {
		return Order{}, fmt.Errorf("order: %w", err)
	}
	if s.opts.OnRedeem != nil {
		if err := s.opts.OnRedeem(ctx, tx, o); err != nil {
			return Order{}, fmt.Errorf("on redeem: %w", err)
		}
	}
	return o, nil
}

func orderByKey(ctx context.Context, tx pgx.Tx, req RedeemRequest) (Order, bool, error) {
	var o Order
	err := tx.QueryRow(ctx, `SELECT id, account_id, item_code, cost, status, coalesce(promo_code, '') FROM orders WHERE request_key = $1`, req.Key).
		Scan(&o.ID, &o.AccountID, &o.Code, &o.Cost, &o.Status, &o.PromoCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, false, nil
	}
	if err != nil {
		return Order{}, false, fmt.Errorf("order by key: %w", err)
	}
	if o.AccountID != req.AccountID || o.Code != req.Code {
		return Order{}, true, ErrIdempotencyKeyReused
	}
	return o, true, nil
}

func spendable(ctx context.Context, tx pgx.Tx, accountID int64, today time.Time) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `SELECT coalesce(sum(points), 0) FROM lots WHERE account_id = $1 AND expires_on >= $2`,
		accountID, today).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("balance: %w", err)
	}
	return n, nil
}

// CompleteOrder marks a placed order fulfilled. Refusals: ErrUnknownOrder, ErrOrderSettled.
func (s *Store) CompleteOrder(ctx context.Context, orderID int64) (Order, error) {
	now := s.now()
	o, err := withTx(ctx, s.pool, func(tx pgx.Tx) (Order, error) {
		o, err := lockPlacedOrder(ctx, tx, orderID)
		if err != nil {
			return Order{}, err
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET status = 'completed', settled_at = $2 WHERE id = $1`, orderID, now); err != nil {
			return Order{}, fmt.Errorf("complete: %w", err)
		}
		o.Status = "completed"
		o.Balance, err = spendable(ctx, tx, o.AccountID, s.LocalDate(now))
		return o, err
	})
	if err != nil {
		return Order{}, fmt.Errorf("complete order %d: %w", orderID, err)
	}
	return o, nil
}

// FailOrder refunds a placed order into the lots its points came from and returns the unit to stock.
// A part whose lot has expired meanwhile comes back with refundGrace days to live.
// Refusals: ErrUnknownOrder, ErrOrderSettled.
func (s *Store) FailOrder(ctx context.Context, orderID int64) (Order, error) {
	now := s.now()
	o, err := withTx(ctx, s.pool, func(tx pgx.Tx) (Order, error) {
		return s.failOrderTx(ctx, tx, orderID, now)
	})
	if err != nil {
		return Order{}, fmt.Errorf("fail order %d: %w", orderID, err)
	}
	return o, nil
}

func (s *Store) failOrderTx(ctx context.Context, tx pgx.Tx, orderID int64, now time.Time) (Order, error) {
	o, err := lockPlacedOrder(ctx, tx, orderID)
	if err != nil {
		return Order{}, err
	}
	if _, err := lockAccounts(ctx, tx, o.AccountID); err != nil {
		return Order{}, err
	}
	rows, err := tx.Query(ctx, `SELECT expires_on, points FROM order_parts WHERE order_id = $1 ORDER BY expires_on`, orderID)
	if err != nil {
		return Order{}, fmt.Errorf("order parts: %w", err)
	}
	parts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Lot])
	if err != nil {
		return Order{}, fmt.Errorf("order parts: %w", err)
	}
	today := s.LocalDate(now)
	refund := make([]Lot, 0, len(parts))
	for _, p := range parts {
		if p.ExpiresOn.Before(today) {
			p.ExpiresOn = today.AddDate(0, 0, refundGrace)
		}
		refund = append(refund, p)
	}
	refund = mergeLots(refund)
	credits := lotChanges{}
	credits.addLots(o.AccountID, refund, 1)
	j := journalTx{kind: "refund", detail: o.Code, at: now}
	j.postLots(bookRedemption, o.AccountID, refund, 1)
	b := &pgx.Batch{}
	queueLotChanges(b, credits)
	var txID int64
	if err := j.queue(b, &txID); err != nil {
		return Order{}, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Order{}, fmt.Errorf("refund: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE catalog_items SET stock = stock + 1 WHERE code = $1 AND stock IS NOT NULL`, o.Code); err != nil {
		return Order{}, fmt.Errorf("restock: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET status = 'failed', settled_at = $2 WHERE id = $1`, orderID, now); err != nil {
		return Order{}, fmt.Errorf("fail: %w", err)
	}
	o.Status = "failed"
	o.Balance, err = spendable(ctx, tx, o.AccountID, today)
	return o, err
}

func lockPlacedOrder(ctx context.Context, tx pgx.Tx, orderID int64) (Order, error) {
	var o Order
	err := tx.QueryRow(ctx, `SELECT id, account_id, item_code, cost, status FROM orders WHERE id = $1 FOR UPDATE`, orderID).
		Scan(&o.ID, &o.AccountID, &o.Code, &o.Cost, &o.Status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Order{}, ErrUnknownOrder
	case err != nil:
		return Order{}, fmt.Errorf("order: %w", err)
	case o.Status != "placed":
		return Order{}, ErrOrderSettled
	}
	return o, nil
}
