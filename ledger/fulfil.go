package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OrderDetails is an order with what its fulfilment sends to the partner and tells the subscriber.
type OrderDetails struct {
	Order
	Item      Item
	Phone     string // the account's first phone: where the reward goes
	CreatedAt time.Time
}

// OrderDetails reads an order, settled or not. Refusal: ErrUnknownOrder.
func (s *Store) OrderDetails(ctx context.Context, orderID int64) (OrderDetails, error) {
	var d OrderDetails
	err := s.pool.QueryRow(ctx, `
		SELECT o.id, o.account_id, o.item_code, o.cost, o.status, o.created_at,
		       i.code, i.category, i.title_ru, i.title_en, i.cost, i.stock, i.active,
		       coalesce((SELECT phone FROM phones p WHERE p.account_id = o.account_id ORDER BY added_at, phone LIMIT 1), '')
		FROM orders o JOIN catalog_items i ON i.code = o.item_code WHERE o.id = $1`, orderID).
		Scan(&d.ID, &d.AccountID, &d.Code, &d.Cost, &d.Status, &d.CreatedAt,
			&d.Item.Code, &d.Item.Category, &d.Item.TitleRU, &d.Item.TitleEN, &d.Item.Cost, &d.Item.Stock, &d.Item.Active, &d.Phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return OrderDetails{}, ErrUnknownOrder
	}
	if err != nil {
		return OrderDetails{}, fmt.Errorf("ledger: order %d: %w", orderID, err)
	}
	return d, nil
}

// PlacedOrders lists the ids of orders placed before before and still unsettled, oldest first, at
// most limit: orders whose fulfilment job was lost (placed before fulfilment existed, or discarded).
func (s *Store) PlacedOrders(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM orders WHERE status = 'placed' AND created_at < $1 ORDER BY id LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: placed orders: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("ledger: placed orders: %w", err)
	}
	return ids, nil
}
