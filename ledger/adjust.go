package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultMaxAdjust is how many points one support adjustment may move either way unless
// Options.MaxAdjust says otherwise.
const DefaultMaxAdjust = 1000

// maxReason bounds an agent's reason, which is kept in the journal and the action log.
const maxReason = 500

// AdjustRequest is a support agent's correction of an account's points.
type AdjustRequest struct {
	AccountID int64
	Points    int64  // signed: positive credits a new lot, negative spends
	AgentID   int64  // the agent's Telegram user id
	Reason    string // required; recorded with the agent's id
}

// Adjustment is a completed adjustment.
type Adjustment struct {
	ActionID  int64
	TxID      int64
	AccountID int64
	Points    int64
	Balance   int64 // spendable after the adjustment
	Lots      []Lot // the lots credited or debited, each with a positive amount
	At        time.Time
}

// Adjust applies an agent's adjustment as one balanced journal transaction (book adjustment, kind
// adjustment) whose detail names the agent and the reason. A positive amount is a new lot expiring
// like an accrual made now; a negative one spends the soonest-expiring lots first and never takes
// the balance below zero. Blocked accounts may be adjusted: that is how support settles them.
// Refusals: ErrAdjustAmount (zero, or beyond Options.MaxAdjust either way), ErrNoReason,
// ErrInsufficientPoints, ErrUnknownAccount. A refusal changes nothing.
func (s *Store) Adjust(ctx context.Context, req AdjustRequest) (Adjustment, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Points == 0 || req.Points > s.opts.MaxAdjust || req.Points < -s.opts.MaxAdjust:
		return Adjustment{}, ErrAdjustAmount
	case req.Reason == "":
		return Adjustment{}, ErrNoReason
	}
	if len([]rune(req.Reason)) > maxReason {
		req.Reason = string([]rune(req.Reason)[:maxReason])
	}
	now := s.now()
	a, err := withTx(ctx, s.pool, func(tx pgx.Tx) (Adjustment, error) {
		return s.adjustTx(ctx, tx, req, now)
	})
	if err != nil {
		return Adjustment{}, fmt.Errorf("adjust %d: %w", req.AccountID, err)
	}
	return a, nil
}

func (s *Store) adjustTx(ctx context.Context, tx pgx.Tx, req AdjustRequest, now time.Time) (Adjustment, error) {
	if _, err := lockAccounts(ctx, tx, req.AccountID); err != nil {
		return Adjustment{}, err
	}
	lots, err := liveLots(ctx, tx, req.AccountID, s.LocalDate(now))
	if err != nil {
		return Adjustment{}, err
	}
	have := sumLots(lots)
	a := Adjustment{AccountID: req.AccountID, Points: req.Points, At: now}
	j := journalTx{kind: "adjustment", detail: fmt.Sprintf("agent %d: %s", req.AgentID, req.Reason), at: now}
	sign := int64(1)
	if req.Points > 0 {
		a.Lots = []Lot{{ExpiresOn: s.ExpiryFor(now), Points: req.Points}}
	} else {
		if have < -req.Points {
			return Adjustment{}, ErrInsufficientPoints
		}
		a.Lots, sign = pickLots(lots, -req.Points), -1
	}
	changes := lotChanges{}
	changes.addLots(req.AccountID, a.Lots, sign)
	j.postLots(bookAdjustment, req.AccountID, a.Lots, sign)
	b := &pgx.Batch{}
	queueLotChanges(b, changes)
	a.Balance = have + req.Points
	if err := j.queue(b, &a.TxID); err != nil {
		return Adjustment{}, err
	}
	b.Queue(`
		INSERT INTO support_actions (account_id, agent_id, action, points, reason, tx_id, at)
		VALUES ($1, $2, 'adjust', $3, $4, currval('journal_tx_seq'), $5) RETURNING id`,
		req.AccountID, req.AgentID, req.Points, req.Reason, now).QueryRow(func(row pgx.Row) error { return row.Scan(&a.ActionID) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Adjustment{}, fmt.Errorf("write: %w", err)
	}
	return a, nil
}

// BlockRequest is an agent blocking or unblocking an account.
type BlockRequest struct {
	AccountID int64
	AgentID   int64
	Blocked   bool
	Reason    string // required to block
}

// SupportBlock blocks or unblocks an account for an agent and records who did it and why, in one
// transaction. Refusals: ErrNoReason (blocking without one), ErrUnknownAccount.
func (s *Store) SupportBlock(ctx context.Context, req BlockRequest) error {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Blocked && req.Reason == "" {
		return ErrNoReason
	}
	if len([]rune(req.Reason)) > maxReason {
		req.Reason = string([]rune(req.Reason)[:maxReason])
	}
	action := map[bool]string{true: "block", false: "unblock"}[req.Blocked]
	now := s.now()
	_, err := withTx(ctx, s.pool, func(tx pgx.Tx) (struct{}, error) {
		tag, err := tx.Exec(ctx, `UPDATE accounts SET blocked = $2 WHERE id = $1`, req.AccountID, req.Blocked)
		if err != nil {
			return struct{}{}, fmt.Errorf("set blocked: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return struct{}{}, ErrUnknownAccount
		}
		_, err = tx.Exec(ctx, `INSERT INTO support_actions (account_id, agent_id, action, reason, at) VALUES ($1, $2, $3, $4, $5)`,
			req.AccountID, req.AgentID, action, req.Reason, now)
		if err != nil {
			return struct{}{}, fmt.Errorf("record: %w", err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("support %s %d: %w", action, req.AccountID, err)
	}
	return nil
}
