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
	err := s.pool.QueryRow(ctx, `SELECT id, account_id, item_code, cost, status, coalesce(promo_code, '') FROM orders WHERE request_key = $1`, key).
		Scan(&o.ID, &o.AccountID, &o.Code, &o.Cost, &o.Status, &o.PromoCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, ErrUnknownOrder
	}
	if err != nil {
		return Order{}, fmt.Errorf("order by key: %w", err)
	}
	return o, nil
}

// PromoCode is one code of a partner reward's pool.
type PromoCode struct {
	Item string // the catalogue item's code
	Code string
}

// ImportPromoCodes adds codes to their items' pools, in one transaction, and makes those items coded
// (each redeem takes one code; an empty pool is out of stock). A code already in its pool is skipped.
// It returns how many codes were added. Refusal: ErrUnknownItem (naming the item), and nothing is added.
func (s *Store) ImportPromoCodes(ctx context.Context, codes []PromoCode) (int64, error) {
	items, values := make([]string, len(codes)), make([]string, len(codes))
	for i, c := range codes {
		items[i], values[i] = c.Item, c.Code
	}
	return withTx(ctx, s.pool, func(tx pgx.Tx) (int64, error) {
		var unknown string
		err := tx.QueryRow(ctx, `SELECT i FROM unnest($1::text[]) AS i WHERE NOT EXISTS (SELECT FROM catalog_items WHERE code = i) LIMIT 1`,
			items).Scan(&unknown)
		switch {
		case err == nil:
			return 0, fmt.Errorf("%w: %q", ErrUnknownItem, unknown)
		case !errors.Is(err, pgx.ErrNoRows):
			return 0, fmt.Errorf("promo codes: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO promo_codes (item_code, code) SELECT * FROM unnest($1::text[], $2::text[])
			ON CONFLICT DO NOTHING`, items, values)
		if err != nil {
			return 0, fmt.Errorf("promo codes: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE catalog_items SET coded = true WHERE code = ANY($1) AND NOT coded`, items); err != nil {
			return 0, fmt.Errorf("promo codes: %w", err)
		}
		return tag.RowsAffected(), nil
	})
}
