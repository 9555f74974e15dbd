package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The support relay's records: an account's topic in the support group, its conversations and the
// map between each relayed message and its copy. ledger knows nothing of Telegram: a group, a topic
// and a message are just numbers here.

// SupportTopic is an account's topic in a support group.
type SupportTopic struct {
	ChatID    int64 // the support group
	AccountID int64
	ThreadID  int
	Closed    bool // closed in the group: reopen it before the next conversation
}

// Conversation is a stretch of an account talking to support.
type Conversation struct {
	ID          int64
	ChatID      int64
	AccountID   int64
	OpenedAt    time.Time
	LastAt      time.Time // the last message either way
	UserChatID  int64     // the chat of the latest subscriber message, where answers go (0: none yet)
	ClosedAt    time.Time // zero while open
	ClosedBy    int64     // the agent who closed it; 0 when it closed itself
	CloseReason string    // "agent", "idle"; "" while open
}

// Message directions in SupportMessage.
const (
	SupportIn  = "in"  // a subscriber's message copied into the topic
	SupportOut = "out" // an agent's message copied to the subscriber
)

// SupportMessage ties a message in a subscriber's chat to its counterpart in the topic.
type SupportMessage struct {
	ChatID         int64 // the support group
	TopicMsgID     int
	UserChatID     int64
	UserMsgID      int
	Direction      string // SupportIn or SupportOut
	AccountID      int64
	ConversationID int64
	AgentID        int64 // out: who answered (0: an anonymous admin)
	At             time.Time
}

// Topic is the account's topic in the support group chatID; ok is false when it has none yet.
func (s *Store) Topic(ctx context.Context, chatID, accountID int64) (t SupportTopic, ok bool, err error) {
	t = SupportTopic{ChatID: chatID, AccountID: accountID}
	err = s.pool.QueryRow(ctx, `SELECT thread_id, closed FROM support_topics WHERE chat_id = $1 AND account_id = $2`,
		chatID, accountID).Scan(&t.ThreadID, &t.Closed)
	if errors.Is(err, pgx.ErrNoRows) {
		return SupportTopic{}, false, nil
	}
	if err != nil {
		return SupportTopic{}, false, fmt.Errorf("ledger: topic: %w", err)
	}
	return t, true, nil
}

// SetTopic records the account's topic, replacing one that was deleted from the group.
func (s *Store) SetTopic(ctx context.Context, t SupportTopic) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO support_topics (chat_id, account_id, thread_id, closed, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (chat_id, account_id) DO UPDATE SET thread_id = EXCLUDED.thread_id, closed = EXCLUDED.closed,
			created_at = EXCLUDED.created_at`,
		t.ChatID, t.AccountID, t.ThreadID, t.Closed, s.now())
	if err != nil {
		return fmt.Errorf("ledger: set topic: %w", err)
	}
	return nil
}

// SetTopicClosed marks whether the account's topic is closed in the group.
func (s *Store) SetTopicClosed(ctx context.Context, chatID, accountID int64, closed bool) error {
	if _, err := s.pool.Exec(ctx, `UPDATE support_topics SET closed = $3 WHERE chat_id = $1 AND account_id = $2`,
		chatID, accountID, closed); err != nil {
		return fmt.Errorf("ledger: set topic closed: %w", err)
	}
	return nil
}

// TopicAccount is the account whose topic threadID is; ok is false for any other topic.
func (s *Store) TopicAccount(ctx context.Context, chatID int64, threadID int) (accountID int64, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT account_id FROM support_topics WHERE chat_id = $1 AND thread_id = $2`,
		chatID, threadID).Scan(&accountID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("ledger: topic account: %w", err)
	}
	return accountID, true, nil
}

const conversationColumns = `id, chat_id, account_id, opened_at, last_at, coalesce(user_chat_id, 0), closed_at, coalesce(closed_by, 0), coalesce(close_reason, '')`

func scanConversation(row pgx.CollectableRow) (Conversation, error) {
	var c Conversation
	var closedAt *time.Time
	err := row.Scan(&c.ID, &c.ChatID, &c.AccountID, &c.OpenedAt, &c.LastAt, &c.UserChatID, &closedAt, &c.ClosedBy, &c.CloseReason)
	if closedAt != nil {
		c.ClosedAt = *closedAt
	}
	return c, err
}

// OpenConversation returns the account's open conversation in group chatID, opening one if there is
// none; opened says it is new (so the agents need the account's card first). A subscriber's message
// passes its chat (userChatID), which becomes where answers go; an agent's passes 0.
func (s *Store) OpenConversation(ctx context.Context, chatID, accountID, userChatID int64) (c Conversation, opened bool, err error) {
	now := s.now()
	type result struct {
		c      Conversation
		opened bool
	}
	r, err := withTx(ctx, s.pool, func(tx pgx.Tx) (result, error) {
		// The partial unique index makes a concurrent open wait here, then find the winner's row.
		rows, err := tx.Query(ctx, `
			INSERT INTO support_conversations (chat_id, account_id, opened_at, last_at, user_chat_id)
			VALUES ($1, $2, $3, $3, nullif($4, 0))
			ON CONFLICT (chat_id, account_id) WHERE closed_at IS NULL DO NOTHING
			RETURNING `+conversationColumns, chatID, accountID, now, userChatID)
		if err != nil {
			return result{}, err
		}
		c, err := pgx.CollectExactlyOneRow(rows, scanConversation)
		if err == nil {
			return result{c, true}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return result{}, err
		}
		rows, err = tx.Query(ctx, `UPDATE support_conversations SET user_chat_id = coalesce(nullif($3, 0), user_chat_id)
			WHERE chat_id = $1 AND account_id = $2 AND closed_at IS NULL RETURNING `+conversationColumns, chatID, accountID, userChatID)
		if err != nil {
			return result{}, err
		}
		c, err = pgx.CollectExactlyOneRow(rows, scanConversation)
		if errors.Is(err, pgx.ErrNoRows) {
			return result{}, errRetry // closed between the two statements
		}
		return result{c, false}, err
	})
	if err != nil {
		if isCode(err, "23503") { // foreign key: no such account
			return Conversation{}, false, ErrUnknownAccount
		}
		return Conversation{}, false, fmt.Errorf("ledger: open conversation: %w", err)
	}
	return r.c, r.opened, nil
}

// OpenConversationOf is the account's open conversation in group chatID; ok is false when none is open.
func (s *Store) OpenConversationOf(ctx context.Context, chatID, accountID int64) (c Conversation, ok bool, err error) {
	rows, err := s.pool.Query(ctx, `SELECT `+conversationColumns+` FROM support_conversations
		WHERE chat_id = $1 AND account_id = $2 AND closed_at IS NULL`, chatID, accountID)
	if err != nil {
		return Conversation{}, false, fmt.Errorf("ledger: open conversation of: %w", err)
	}
	c, err = pgx.CollectExactlyOneRow(rows, scanConversation)
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, false, nil
	}
	if err != nil {
		return Conversation{}, false, fmt.Errorf("ledger: open conversation of: %w", err)
	}
	return c, true, nil
}

// CloseConversation closes the account's open conversation for agent agentID and marks its topic
// closed, in one transaction; ok is false when none was open.
func (s *Store) CloseConversation(ctx context.Context, chatID, accountID, agentID int64) (c Conversation, ok bool, err error) {
	now := s.now()
	cs, err := withTx(ctx, s.pool, func(tx pgx.Tx) ([]Conversation, error) {
		rows, err := tx.Query(ctx, `
			UPDATE support_conversations SET closed_at = $3, closed_by = $4, close_reason = 'agent'
			WHERE chat_id = $1 AND account_id = $2 AND closed_at IS NULL
			RETURNING `+conversationColumns, chatID, accountID, now, agentID)
		if err != nil {
			return nil, err
		}
		return closeTopics(ctx, tx, rows)
	})
	if err != nil {
		return Conversation{}, false, fmt.Errorf("ledger: close conversation: %w", err)
	}
	if len(cs) == 0 {
		return Conversation{}, false, nil
	}
	return cs[0], true, nil
}

// CloseIdleConversations closes up to limit conversations whose last message is older than idle,
// marking their topics closed, and returns them. Concurrent sweeps share the work (SKIP LOCKED).
func (s *Store) CloseIdleConversations(ctx context.Context, idle time.Duration, limit int) ([]Conversation, error) {
	now := s.now()
	cs, err := withTx(ctx, s.pool, func(tx pgx.Tx) ([]Conversation, error) {
		rows, err := tx.Query(ctx, `
			UPDATE support_conversations SET closed_at = $1, close_reason = 'idle'
			WHERE id IN (SELECT id FROM support_conversations WHERE closed_at IS NULL AND last_at < $2
			             ORDER BY last_at LIMIT $3 FOR UPDATE SKIP LOCKED)
			RETURNING `+conversationColumns, now, now.Add(-idle), limit)
		if err != nil {
			return nil, err
		}
		return closeTopics(ctx, tx, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: close idle conversations: %w", err)
	}
	return cs, nil
}

// closeTopics collects closed conversations and marks their topics closed.
func closeTopics(ctx context.Context, tx pgx.Tx, rows pgx.Rows) ([]Conversation, error) {
	cs, err := pgx.CollectRows(rows, scanConversation)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if _, err := tx.Exec(ctx, `UPDATE support_topics SET closed = true WHERE chat_id = $1 AND account_id = $2`,
			c.ChatID, c.AccountID); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// RecordSupportMessage stores a relayed message with its counterpart and counts it as activity in its
// conversation, in one transaction. Recording the same topic message twice changes nothing.
func (s *Store) RecordSupportMessage(ctx context.Context, m SupportMessage) error {
	now := s.now()
	var agent *int64
	if m.Direction == SupportOut && m.AgentID != 0 {
		agent = &m.AgentID
	}
	_, err := withTx(ctx, s.pool, func(tx pgx.Tx) (struct{}, error) {
		b := &pgx.Batch{}
		b.Queue(`
			INSERT INTO support_messages (chat_id, topic_msg_id, user_chat_id, user_msg_id, direction, account_id,
			                              conversation_id, agent_id, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			m.ChatID, m.TopicMsgID, m.UserChatID, m.UserMsgID, m.Direction, m.AccountID, m.ConversationID, agent, now)
		b.Queue(`UPDATE support_conversations SET last_at = greatest(last_at, $2) WHERE id = $1`, m.ConversationID, now)
		return struct{}{}, tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("ledger: record support message: %w", err)
	}
	return nil
}

// TouchConversation counts activity in a conversation that no message records (an agent's command).
func (s *Store) TouchConversation(ctx context.Context, conversationID int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE support_conversations SET last_at = greatest(last_at, $2) WHERE id = $1`,
		conversationID, s.now()); err != nil {
		return fmt.Errorf("ledger: touch conversation: %w", err)
	}
	return nil
}

const supportMessageColumns = `chat_id, topic_msg_id, user_chat_id, user_msg_id, direction, account_id, conversation_id, coalesce(agent_id, 0), at`

func (s *Store) supportMessage(ctx context.Context, op, where string, args ...any) (SupportMessage, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+supportMessageColumns+` FROM support_messages WHERE `+where, args...)
	if err != nil {
		return SupportMessage{}, false, fmt.Errorf("ledger: %s: %w", op, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[SupportMessage])
	if errors.Is(err, pgx.ErrNoRows) {
		return SupportMessage{}, false, nil
	}
	if err != nil {
		return SupportMessage{}, false, fmt.Errorf("ledger: %s: %w", op, err)
	}
	return m, true, nil
}

// SupportMessageInTopic finds a relayed message by its id in the support group.
func (s *Store) SupportMessageInTopic(ctx context.Context, chatID int64, topicMsgID int) (SupportMessage, bool, error) {
	return s.supportMessage(ctx, "support message in topic", `chat_id = $1 AND topic_msg_id = $2`, chatID, topicMsgID)
}

// SupportMessageInChat finds a relayed message by its id in the subscriber's chat.
func (s *Store) SupportMessageInChat(ctx context.Context, userChatID int64, userMsgID int) (SupportMessage, bool, error) {
	return s.supportMessage(ctx, "support message in chat", `user_chat_id = $1 AND user_msg_id = $2`, userChatID, userMsgID)
}

// LastSubscriberMessage is the account's latest message to support group chatID: its chat is where
// an agent's answer goes. ok is false when the account never wrote to support, so no one is reachable.
func (s *Store) LastSubscriberMessage(ctx context.Context, chatID, accountID int64) (SupportMessage, bool, error) {
	return s.supportMessage(ctx, "last subscriber message", `chat_id = $1 AND account_id = $2 AND direction = 'in'
		ORDER BY at DESC, topic_msg_id DESC LIMIT 1`, chatID, accountID)
}
