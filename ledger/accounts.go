package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Account is one points account; it may hold several phones.
type Account struct {
	ID      int64
	Phones  []string // E.164, in the order they joined
	Blocked bool
	Debt    int64
}

// AccountByPhone finds the account holding phone (any common format). Refusals: ErrInvalidPhone, ErrUnknownPhone.
func (s *Store) AccountByPhone(ctx context.Context, phone string) (Account, error) {
	e164, err := ParsePhone(phone)
	if err != nil {
		return Account{}, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `SELECT account_id FROM phones WHERE phone = $1`, e164).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrUnknownPhone
	}
	if err != nil {
		return Account{}, fmt.Errorf("account by phone: %w", err)
	}
	return s.Account(ctx, id)
}

// Account returns the account with its phones. Refusal: ErrUnknownAccount.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	a := Account{ID: id}
	err := s.pool.QueryRow(ctx, `
		SELECT a.blocked, a.debt, coalesce(array_agg(p.phone ORDER BY p.added_at, p.phone) FILTER (WHERE p.phone IS NOT NULL), '{}')
		FROM accounts a LEFT JOIN phones p ON p.account_id = a.id
		WHERE a.id = $1 GROUP BY a.id`, id).Scan(&a.Blocked, &a.Debt, &a.Phones)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrUnknownAccount
	}
	if err != nil {
		return Account{}, fmt.Errorf("account: %w", err)
	}
	return a, nil
}

// Enrol makes phone a member. With accountOf empty the phone gets a new account; otherwise it joins the
// account holding accountOf. Enrolling a phone that already belongs to the wanted account changes nothing.
// Refusals: ErrInvalidPhone, ErrUnknownPhone (accountOf is not a member), ErrPhoneTaken.
func (s *Store) Enrol(ctx context.Context, phone, accountOf string) (Account, error) {
	e164, err := ParsePhone(phone)
	if err != nil {
		return Account{}, err
	}
	var owner string
	if accountOf != "" {
		if owner, err = ParsePhone(accountOf); err != nil {
			return Account{}, err
		}
	}
	id, err := withTx(ctx, s.pool, func(tx pgx.Tx) (int64, error) {
		current, err := phoneAccount(ctx, tx, e164)
		if err != nil {
			return 0, err
		}
		if owner == "" {
			if current != 0 {
				return current, nil
			}
			return enrolPhone(ctx, tx, e164)
		}
		target, err := phoneAccount(ctx, tx, owner)
		switch {
		case err != nil:
			return 0, err
		case target == 0:
			return 0, ErrUnknownPhone
		case current == target:
			return current, nil
		case current != 0:
			return 0, ErrPhoneTaken
		}
		if _, err := tx.Exec(ctx, `INSERT INTO phones (phone, account_id) VALUES ($1, $2)`, e164, target); err != nil {
			if isCode(err, "23505") {
				return 0, ErrPhoneTaken
			}
			return 0, fmt.Errorf("add phone: %w", err)
		}
		return target, nil
	})
	if err != nil {
		return Account{}, fmt.Errorf("enrol: %w", err)
	}
	return s.Account(ctx, id)
}

// SetBlocked blocks or unblocks an account: a blocked account neither earns, spends nor gifts.
func (s *Store) SetBlocked(ctx context.Context, accountID int64, blocked bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE accounts SET blocked = $2 WHERE id = $1`, accountID, blocked)
	if err != nil {
		return fmt.Errorf("set blocked: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrUnknownAccount
	}
	return nil
}

// phoneAccount is the account holding phone, or 0.
func phoneAccount(ctx context.Context, tx pgx.Tx, e164 string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT account_id FROM phones WHERE phone = $1`, e164).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("phone: %w", err)
	}
	return id, nil
}

// enrolPhone gives phone a new account. If a concurrent enrolment gave it one first, it returns
// errRetry: withTx rolls the new account back (accounts are never deleted) and the rerun finds the phone.
func enrolPhone(ctx context.Context, tx pgx.Tx, e164 string) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO accounts DEFAULT VALUES RETURNING id`).Scan(&id); err != nil {
		return 0, fmt.Errorf("enrol phone: %w", err)
	}
	// The phone's primary key waits for a concurrent enrolment of the same phone to finish.
	tag, err := tx.Exec(ctx, `INSERT INTO phones (phone, account_id) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING`, e164, id)
	if err != nil {
		return 0, fmt.Errorf("enrol phone: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return 0, errRetry
	}
	return id, nil
}
