package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The support group's outbox. Every post the relay makes into the support group is a row here,
// written while the update that caused it is handled, so a replica killed after answering Telegram
// loses nothing. One worker at a time, across all replicas, posts the rows in id order: it holds a
// session advisory lock on a connection of its own, so a replica that dies (kill -9, a lost
// network) frees the lock with its connection and another takes over at once, with no lease to
// expire. Rows are committed in the order each chat's updates are handled (the bot serializes a
// chat's updates), so id order is each topic's order.
//
// Why not River: River's unique jobs keep a job from being inserted twice, not two jobs from running
// at once or out of order, and the group's order is the whole point. Why not FOR UPDATE on the head
// row: a second replica would wait on that row inside a transaction for as long as a post takes
// (rate-limit waits included) and then, under READ COMMITTED, find the row gone and get nothing.
// Measured on the test machine (2 cores, shared): queueing costs an update one round trip, 1.1 ms;
// the worker's own reads and deletes 1.8 ms a post, against Telegram's 3 s a post into a group; a
// second handle takes the lock 60 ms after the holder's connection closes (connect and lock).

// Kinds of support posts.
const (
	SupportPostRelay = "relay" // copy a subscriber's message into the account's topic
	SupportPostEdit  = "edit"  // carry a subscriber's edit over to the copy in the topic
	SupportPostNote  = "note"  // a line or card for the agents in a topic
	SupportPostClose = "close" // a last note, then close the topic
)

// SupportPost is one post waiting for the support group.
type SupportPost struct {
	ID        int64
	ChatID    int64
	Kind      string
	Payload   []byte // the kind's data as JSON, the relay's business
	Attempts  int    // transient failures so far
	CreatedAt time.Time
}

// outboxChannel is the LISTEN/NOTIFY channel that wakes the worker when a post is queued.
const outboxChannel = "support_outbox"

// QueueSupportPost adds a post for group chatID behind everything queued before it and wakes the
// worker, in one statement; it returns once the row is committed.
func (s *Store) QueueSupportPost(ctx context.Context, chatID int64, kind string, payload []byte) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `
		WITH p AS (INSERT INTO support_outbox (chat_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id),
		     n AS (SELECT pg_notify('`+outboxChannel+`', '') AS _)
		SELECT id FROM p, n`, chatID, kind, string(payload), s.now()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ledger: queue support post: %w", err)
	}
	return id, nil
}

// SupportOutbox is one process's handle on group chatID's outbox: a connection of its own (outside
// the pool, so it never starves the pool) on which it takes the outbox's lock and works the rows.
// It is not safe for concurrent use: one worker goroutine owns it.
type SupportOutbox struct {
	store  *Store
	chatID int64
	conn   *pgx.Conn // nil until TryLock connects, and after a failure
	locked bool
}

// SupportOutbox returns a handle on group chatID's outbox; it holds nothing until TryLock.
func (s *Store) SupportOutbox(chatID int64) *SupportOutbox {
	return &SupportOutbox{store: s, chatID: chatID}
}

// errOutboxNotLocked (a fault of the caller, not a refusal): the outbox's lock is not (or no longer) held by this handle.
var errOutboxNotLocked = errors.New("ledger: support outbox: lock not held")

// TryLock takes the outbox's lock unless another worker holds it; locked says which. The lock lasts
// until Close, or until the connection fails (then every method returns an error and TryLock may be
// called again).
func (o *SupportOutbox) TryLock(ctx context.Context) (locked bool, err error) {
	if o.locked {
		return true, nil
	}
	if o.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, o.store.pool.Config().ConnConfig.Copy())
		if err != nil {
			return false, fmt.Errorf("ledger: support outbox: connect: %w", err)
		}
		o.conn = conn
	}
	// The key names the schema too: advisory locks are per database, and tests run a schema each.
	err = o.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '.support_outbox.' || $1::bigint::text, 0))`,
		o.chatID).Scan(&locked)
	if err == nil && locked {
		_, err = o.conn.Exec(ctx, "LISTEN "+outboxChannel)
	}
	if err != nil {
		o.Close()
		return false, fmt.Errorf("ledger: support outbox: lock: %w", err)
	}
	o.locked = locked
	return locked, nil
}

// fail closes the connection after an error on it: the lock may be gone with it.
func (o *SupportOutbox) fail(op string, err error) error {
	o.Close()
	return fmt.Errorf("ledger: support outbox: %s: %w", op, err)
}

// Next is the oldest post not yet posted nor failed; ok is false when there is none.
func (o *SupportOutbox) Next(ctx context.Context) (p SupportPost, ok bool, err error) {
	if !o.locked {
		return p, false, errOutboxNotLocked
	}
	err = o.conn.QueryRow(ctx, `SELECT id, chat_id, kind, payload::text, attempts, created_at FROM support_outbox
		WHERE chat_id = $1 AND failed_at IS NULL ORDER BY id LIMIT 1`, o.chatID).
		Scan(&p.ID, &p.ChatID, &p.Kind, &p.Payload, &p.Attempts, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return SupportPost{}, false, nil
	}
	if err != nil {
		return SupportPost{}, false, o.fail("next", err)
	}
	return p, true, nil
}

// Wait returns when a post may have been queued, or after d; an error means the connection (and
// with it the lock) is gone, or ctx ended.
func (o *SupportOutbox) Wait(ctx context.Context, d time.Duration) error {
	if !o.locked {
		return errOutboxNotLocked
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := o.conn.WaitForNotification(wctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case wctx.Err() != nil && !o.conn.IsClosed(): // waited d: a timeout leaves the connection usable
		return nil
	}
	return o.fail("wait", err)
}

// Posted removes a post that went out.
func (o *SupportOutbox) Posted(ctx context.Context, id int64) error {
	return o.exec(ctx, "posted", `DELETE FROM support_outbox WHERE id = $1`, id)
}

// Failed marks a post that can never go out (Telegram refused it for good); it is never tried again.
func (o *SupportOutbox) Failed(ctx context.Context, id int64, reason string) error {
	return o.exec(ctx, "failed", `UPDATE support_outbox SET failed_at = $2, last_error = $3 WHERE id = $1`,
		id, o.store.now(), reason)
}

// Retry counts a transient failure of a post; it stays at the head of the outbox.
func (o *SupportOutbox) Retry(ctx context.Context, id int64, reason string) error {
	return o.exec(ctx, "retry", `UPDATE support_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, id, reason)
}

func (o *SupportOutbox) exec(ctx context.Context, op, sql string, args ...any) error {
	if !o.locked {
		return errOutboxNotLocked
	}
	if _, err := o.conn.Exec(ctx, sql, args...); err != nil {
		return o.fail(op, err)
	}
	return nil
}

// Close gives up the lock with the connection; the handle may TryLock again.
func (o *SupportOutbox) Close() {
	if o.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if o.locked {
			// Unlocked before the close returns: the server ends a closed session a moment later, and
			// another replica's TryLock in that moment would find the lock still held.
			_, _ = o.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
		}
		o.conn.Close(ctx) // closing the session frees its advisory lock; a failed close leaves it to the server's end of the socket
	}
	o.conn, o.locked = nil, false
}

// SupportOutboxState is what the outbox holds, for the metrics: posts waiting (the oldest's time, zero
// when none wait) and posts that failed for good.
type SupportOutboxState struct {
	Pending, Failed int64
	OldestPending   time.Time
}

// SupportOutboxState reads the outbox's backlog across all support groups.
func (s *Store) SupportOutboxState(ctx context.Context) (SupportOutboxState, error) {
	var st SupportOutboxState
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE failed_at IS NULL), count(*) FILTER (WHERE failed_at IS NOT NULL),
		min(created_at) FILTER (WHERE failed_at IS NULL) FROM support_outbox`).Scan(&st.Pending, &st.Failed, &oldest)
	if err != nil {
		return SupportOutboxState{}, fmt.Errorf("support outbox state: %w", err)
	}
	if oldest != nil {
		st.OldestPending = *oldest
	}
	return st, nil
}
