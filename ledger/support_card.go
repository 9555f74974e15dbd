package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Card is what a support agent sees of an account before its first message, or on request.
type Card struct {
	Account   Account
	Balance   Balance
	Recent    []Operation // newest first
	Orders    []OpenOrder // placed and not yet settled, oldest first
	Languages []string    // of the account's chat links, oldest link first
}

// OpenOrder is an order still waiting to be fulfilled.
type OpenOrder struct {
	ID      int64
	Code    string
	TitleRU string
	Cost    int64
	At      time.Time
}

// CardOperations is how many recent operations a card shows.
const CardOperations = 5

// AccountCard reads an account's card. Refusal: ErrUnknownAccount.
func (s *Store) AccountCard(ctx context.Context, accountID int64) (Card, error) {
	var c Card
	var err error
	if c.Account, err = s.Account(ctx, accountID); err != nil {
		return Card{}, err
	}
	if c.Balance, err = s.Balance(ctx, accountID); err != nil {
		return Card{}, err
	}
	if c.Recent, err = s.History(ctx, accountID, 0, CardOperations); err != nil {
		return Card{}, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT o.id, o.item_code, coalesce(i.title_ru, o.item_code), o.cost, o.created_at
		FROM orders o LEFT JOIN catalog_items i ON i.code = o.item_code
		WHERE o.account_id = $1 AND o.status = 'placed' ORDER BY o.id`, accountID)
	if err != nil {
		return Card{}, fmt.Errorf("ledger: card orders: %w", err)
	}
	if c.Orders, err = pgx.CollectRows(rows, pgx.RowToStructByPos[OpenOrder]); err != nil {
		return Card{}, fmt.Errorf("ledger: card orders: %w", err)
	}
	links, err := s.LinksForAccount(ctx, accountID)
	if err != nil {
		return Card{}, err
	}
	for _, l := range links {
		c.Languages = append(c.Languages, l.Language)
	}
	return c, nil
}
