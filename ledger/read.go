package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Burn is an amount that will expire on a date.
type Burn struct {
	On     time.Time
	Points int64
}

// Balance is what an account can spend now.
type Balance struct {
	Points   int64
	Debt     int64
	NextBurn *Burn // nil when nothing is held
}

// Balance is what the account can spend now and the nearest burn. Lots past their date count as
// burnt even before the sweep removes them. Refusal: ErrUnknownAccount.
func (s *Store) Balance(ctx context.Context, accountID int64) (Balance, error) {
	today := s.LocalDate(s.now())
	var (
		b       Balance
		nextOn  *time.Time
		nextPts *int64
	)
	err := s.pool.QueryRow(ctx, `
		SELECT a.debt,
		       coalesce((SELECT sum(points) FROM lots WHERE account_id = a.id AND expires_on >= $2), 0),
		       n.expires_on, n.points
		FROM accounts a
		LEFT JOIN LATERAL (SELECT expires_on, points FROM lots
		                   WHERE account_id = a.id AND expires_on >= $2 AND points > 0
		                   ORDER BY expires_on LIMIT 1) n ON true
		WHERE a.id = $1`, accountID, today).Scan(&b.Debt, &b.Points, &nextOn, &nextPts)
	if errors.Is(err, pgx.ErrNoRows) {
		return Balance{}, ErrUnknownAccount
	}
	if err != nil {
		return Balance{}, fmt.Errorf("balance: %w", err)
	}
	if nextOn != nil {
		b.NextBurn = &Burn{On: *nextOn, Points: *nextPts}
	}
	return b, nil
}

// Lots are the account's live lots, soonest-expiring first.
func (s *Store) Lots(ctx context.Context, accountID int64) ([]Lot, error) {
	return s.lotsUntil(ctx, accountID, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
}

// Forecast is what burns within the next days days (today counts as day 0), by date.
func (s *Store) Forecast(ctx context.Context, accountID int64, days int) ([]Burn, error) {
	last := s.LocalDate(s.now()).AddDate(0, 0, days)
	lots, err := s.lotsUntil(ctx, accountID, last)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	burns := make([]Burn, len(lots))
	for i, l := range lots {
		burns[i] = Burn{On: l.ExpiresOn, Points: l.Points}
	}
	return burns, nil
}

func (s *Store) lotsUntil(ctx context.Context, accountID int64, last time.Time) ([]Lot, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT expires_on, points FROM lots
		WHERE account_id = $1 AND expires_on BETWEEN $2 AND $3 AND points > 0
		ORDER BY expires_on`, accountID, s.LocalDate(s.now()), last)
	if err != nil {
		return nil, fmt.Errorf("lots: %w", err)
	}
	lots, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Lot])
	if err != nil {
		return nil, fmt.Errorf("lots: %w", err)
	}
	return lots, nil
}
