package ledger

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Operation is one journal transaction as seen by one account.
type Operation struct {
	TxID   int64
	Kind   string // accrual, reversal, redeem, refund, gift_out, gift_in, expiry, adjustment
	Points int64  // signed effect on the account's spendable points
	At     time.Time
	Detail string // category, item code, counterparty phone (E.164), reversed event id
	// PromoCode is the code a redeem of a coded item gave ("" otherwise).
	PromoCode string
}

// historyQuery reads an account's journal as operations, one per transaction, in $2's tx_id window
// and $3's direction: a gift is gift_out or gift_in by the sign of the account's lines; a redeem
// brings the promo code its order got.
const historyQuery = `
	SELECT j.tx_id,
	       CASE WHEN j.kind = 'gift' AND sum(j.points) < 0 THEN 'gift_out'
	            WHEN j.kind = 'gift' THEN 'gift_in' ELSE j.kind END,
	       sum(j.points), min(j.at), min(j.detail), coalesce(min(o.promo_code), '')
	FROM journal j
	LEFT JOIN orders o ON j.kind = 'redeem' AND o.account_id = j.account_id AND o.tx_id = j.tx_id
	WHERE j.account_id = $1 AND j.%s
	GROUP BY j.tx_id, j.kind
	ORDER BY j.tx_id %s
	LIMIT $3`

var (
	olderQuery = fmt.Sprintf(historyQuery, "tx_id < $2", "DESC")
	newerQuery = fmt.Sprintf(historyQuery, "tx_id > $2", "ASC")
)

// History is the account's operations, newest first: up to limit transactions older than beforeTx
// (0 for the newest). Pass the last TxID back as beforeTx for the next page.
func (s *Store) History(ctx context.Context, accountID, beforeTx int64, limit int) ([]Operation, error) {
	if beforeTx <= 0 {
		beforeTx = 1<<63 - 1
	}
	return s.history(ctx, olderQuery, accountID, beforeTx, limit)
}

// HistoryNewer is the account's operations newer than afterTx: the limit oldest of them, newest
// first, so a channel can page back towards the present as History pages into the past.
func (s *Store) HistoryNewer(ctx context.Context, accountID, afterTx int64, limit int) ([]Operation, error) {
	ops, err := s.history(ctx, newerQuery, accountID, afterTx, limit)
	slices.Reverse(ops)
	return ops, err
}

func (s *Store) history(ctx context.Context, query string, accountID, tx int64, limit int) ([]Operation, error) {
	rows, err := s.pool.Query(ctx, query, accountID, tx, limit)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	ops, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Operation])
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return ops, nil
}
