package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// OrderByKey is the order a redeem request with this idempotency key placed, so a channel can tell a
// second tap on a spent confirmation what the first one did. Refusal: ErrUnknownOrder.
func (s *Store) OrderByKey(ctx context.Context, key string) (Order, error) {
	var o Order
	err := s.pool.QueryRow(ctx, `SELECT id, account_id, item_code, cost, status FROM orders WHERE request_key = $1`, key).
		Scan(&o.ID, &o.AccountID, &o.Code, &o.Cost, &o.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, ErrUnknownOrder
	}
	if err != nil {
		return Order{}, fmt.Errorf("order by key: %w", err)
	}
	return o, nil
}
