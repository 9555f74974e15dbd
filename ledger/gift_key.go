package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A gift request may carry an idempotency key (GiftRequest.Key, stored UNIQUE in gifts.request_key):
// a retry with the same key gets the first gift's receipt and moves nothing; the key with another
// gift is refused (ErrIdempotencyKeyReused).

// keyedGift is the gift a request key was first used for.
type keyedGift struct {
	receipt GiftReceipt // a committed gift, as the database has it
	made    int         // 1 + the index in the batch's gifts, for a gift of this batch; 0 for a committed one
}

// repeats says whether g asks for the same gift as r: the key's owner may retry, nobody may reuse it.
func (r GiftReceipt) repeats(g GiftRequest, toPhone string) bool {
	return r.FromAccount == g.From && r.ToPhone == toPhone && r.Points == g.Points
}

// keyedGiftsQuery reads the committed gifts of the request keys $1, each with the lots it gave.
const keyedGiftsQuery = `
	SELECT g.request_key, g.id, g.from_account, g.to_account, g.from_phone, g.to_phone, g.points, g.created_at,
	       l.dates, l.points
	FROM gifts g, LATERAL (
		SELECT coalesce(array_agg(j.expires_on ORDER BY j.expires_on), '{}') AS dates,
		       coalesce(array_agg(j.points ORDER BY j.expires_on), '{}') AS points
		FROM journal_lines j WHERE j.tx_id = g.tx_id AND j.account_id = g.to_account AND j.book = '` + bookLot + `') l
	WHERE g.request_key = ANY($1)`

func scanKeyedGifts(rows pgx.Rows, keyed map[string]keyedGift) error {
	var (
		key    string
		r      GiftReceipt
		dates  []time.Time
		points []int64
	)
	_, err := pgx.ForEachRow(rows, []any{&key, &r.ID, &r.FromAccount, &r.ToAccount, &r.FromPhone, &r.ToPhone, &r.Points,
		&r.At, &dates, &points}, func() error {
		r.Lots = make([]Lot, len(dates))
		for i := range dates {
			r.Lots[i] = Lot{ExpiresOn: dates[i], Points: points[i]}
		}
		keyed[key] = keyedGift{receipt: r}
		return nil
	})
	return err
}

// GiftKeyUsed says whether a gift was made with the request key, so a caller can send a retry straight
// to Gift (which answers it with the first receipt) instead of re-checking what the first gift changed.
func (s *Store) GiftKeyUsed(ctx context.Context, key string) (bool, error) {
	var used bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM gifts WHERE request_key = $1)`, key).Scan(&used); err != nil {
		return false, fmt.Errorf("gift key: %w", err)
	}
	return used, nil
}
