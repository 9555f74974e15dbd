package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Item is a reward in the catalogue; Code is what a subscriber types (the article's USSD codes: 22, 23).
type Item struct {
	Code     string
	Category string
	TitleRU  string
	TitleEN  string
	Cost     int64
	Stock    *int64 // nil: unlimited; for a coded item, its unused promo codes
	Active   bool
	HowToRU  string // how to use the reward, said once it is redeemed ("" for nothing to say)
	HowToEN  string
	Coded    bool // each redeem gives a promo code from the item's pool (ImportPromoCodes)
}

// itemSelect reads Items; a coded item's stock is what its pool has left.
const itemSelect = `SELECT c.code, c.category, c.title_ru, c.title_en, c.cost,
	CASE WHEN c.coded THEN (SELECT count(*) FROM promo_codes p WHERE p.item_code = c.code AND p.order_id IS NULL) ELSE c.stock END,
	c.active, c.how_to_ru, c.how_to_en, c.coded
	FROM catalog_items c`

// Catalog is the active items, by category and then cost.
func (s *Store) Catalog(ctx context.Context) ([]Item, error) {
	rows, err := s.pool.Query(ctx, itemSelect+` WHERE c.active ORDER BY c.category, c.cost, c.code`)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Item])
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return items, nil
}

// Item is one catalogue item, active or not. Refusal: ErrUnknownItem.
func (s *Store) Item(ctx context.Context, code string) (Item, error) {
	rows, err := s.pool.Query(ctx, itemSelect+` WHERE c.code = $1`, code)
	if err != nil {
		return Item{}, fmt.Errorf("item: %w", err)
	}
	it, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Item])
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrUnknownItem
	}
	if err != nil {
		return Item{}, fmt.Errorf("item: %w", err)
	}
	return it, nil
}

// UpsertItems inserts or replaces catalogue items by code, all in one transaction.
func (s *Store) UpsertItems(ctx context.Context, items []Item) error {
	_, err := withTx(ctx, s.pool, func(tx pgx.Tx) (struct{}, error) {
		batch := &pgx.Batch{}
		for _, it := range items {
			batch.Queue(`
				INSERT INTO catalog_items (code, category, title_ru, title_en, cost, stock, active, how_to_ru, how_to_en)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (code) DO UPDATE SET category = excluded.category, title_ru = excluded.title_ru,
				  title_en = excluded.title_en, cost = excluded.cost, stock = excluded.stock, active = excluded.active,
				  how_to_ru = excluded.how_to_ru, how_to_en = excluded.how_to_en`,
				it.Code, it.Category, it.TitleRU, it.TitleEN, it.Cost, it.Stock, it.Active, it.HowToRU, it.HowToEN)
		}
		return struct{}{}, tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("upsert items: %w", err)
	}
	return nil
}
