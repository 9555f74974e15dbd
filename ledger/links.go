package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotLinked is returned for a channel user that has no link to an account.
var ErrNotLinked = refusal("channel user is not linked")

// Link ties a channel user (a Telegram user, a console session) to the account of a phone the user
// proved to own. Channel is a short name ("telegram", "console"); ledger knows nothing more of it.
type Link struct {
	Channel   string
	UserID    int64 // the channel's user id
	ChatID    int64 // where notices go (a private chat)
	AccountID int64 // set by Link from Phone
	Phone     string
	Language  string // "ru" or "en"
	Active    bool   // false once the user blocked the bot
	LinkedAt  time.Time
}

const linkColumns = `channel, channel_user_id, chat_id, account_id, phone, language, active, linked_at`

func scanLink(row pgx.CollectableRow) (Link, error) {
	var l Link
	err := row.Scan(&l.Channel, &l.UserID, &l.ChatID, &l.AccountID, &l.Phone, &l.Language, &l.Active, &l.LinkedAt)
	return l, err
}

// Link links l.Channel/l.UserID to the account holding l.Phone (E.164), replacing any earlier link of
// that user; it returns the stored link. Refusals: ErrUnknownPhone when the phone is not a member.
// The caller has proven the phone (a one-time code, or the trusted console).
func (s *Store) Link(ctx context.Context, l Link) (Link, error) {
	if l.Language == "" {
		l.Language = "ru"
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO channel_links (`+linkColumns+`)
		SELECT $1, $2, $3, p.account_id, p.phone, $5, true, $6 FROM phones p WHERE p.phone = $4
		ON CONFLICT (channel, channel_user_id) DO UPDATE SET
			chat_id = EXCLUDED.chat_id, account_id = EXCLUDED.account_id, phone = EXCLUDED.phone,
			language = EXCLUDED.language, active = true, linked_at = EXCLUDED.linked_at
		RETURNING `+linkColumns,
		l.Channel, l.UserID, l.ChatID, l.Phone, l.Language, s.now())
	if err != nil {
		return Link{}, fmt.Errorf("ledger: link: %w", err)
	}
	got, err := pgx.CollectExactlyOneRow(rows, scanLink)
	if errors.Is(err, pgx.ErrNoRows) {
		return Link{}, ErrUnknownPhone
	}
	if err != nil {
		return Link{}, fmt.Errorf("ledger: link: %w", err)
	}
	return got, nil
}

// Unlink removes the user's link; unlinking a user that is not linked is not an error.
func (s *Store) Unlink(ctx context.Context, channel string, userID int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM channel_links WHERE channel = $1 AND channel_user_id = $2`,
		channel, userID); err != nil {
		return fmt.Errorf("ledger: unlink: %w", err)
	}
	return nil
}

// LinkedAccount is the user's link. Refusals: ErrNotLinked.
func (s *Store) LinkedAccount(ctx context.Context, channel string, userID int64) (Link, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM channel_links
		WHERE channel = $1 AND channel_user_id = $2`, channel, userID)
	if err != nil {
		return Link{}, fmt.Errorf("ledger: linked account: %w", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanLink)
	if errors.Is(err, pgx.ErrNoRows) {
		return Link{}, ErrNotLinked
	}
	if err != nil {
		return Link{}, fmt.Errorf("ledger: linked account: %w", err)
	}
	return l, nil
}

// SetLanguage remembers the user's language. Refusals: ErrNotLinked.
func (s *Store) SetLanguage(ctx context.Context, channel string, userID int64, lang string) error {
	return s.updateLink(ctx, "set language", `UPDATE channel_links SET language = $3
		WHERE channel = $1 AND channel_user_id = $2`, channel, userID, lang)
}

// SetActive marks the user's chat as reachable or not (a 403 means the user blocked the bot; any
// later message from the user makes it active again). Refusals: ErrNotLinked.
func (s *Store) SetActive(ctx context.Context, channel string, userID int64, active bool) error {
	return s.updateLink(ctx, "set active", `UPDATE channel_links SET active = $3
		WHERE channel = $1 AND channel_user_id = $2`, channel, userID, active)
}

func (s *Store) updateLink(ctx context.Context, op, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("ledger: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotLinked
	}
	return nil
}

// LinksForAccount lists the account's links, oldest first, so a gift recipient can be told in a chat.
func (s *Store) LinksForAccount(ctx context.Context, accountID int64) ([]Link, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM channel_links
		WHERE account_id = $1 ORDER BY linked_at, channel, channel_user_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("ledger: links for account: %w", err)
	}
	links, err := pgx.CollectRows(rows, scanLink)
	if err != nil {
		return nil, fmt.Errorf("ledger: links for account: %w", err)
	}
	return links, nil
}

// FirstMember is the earliest enrolled phone: the console's default subscriber (the demo's first).
// Refusals: ErrUnknownPhone when there are no members.
func (s *Store) FirstMember(ctx context.Context) (string, error) {
	var phone string
	err := s.pool.QueryRow(ctx, `SELECT phone FROM phones ORDER BY account_id, added_at, phone LIMIT 1`).Scan(&phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrUnknownPhone
	}
	if err != nil {
		return "", fmt.Errorf("ledger: first member: %w", err)
	}
	return phone, nil
}
