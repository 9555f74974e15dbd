package ledger

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// GiftRequest asks to move Points from account From to the account holding phone To. Key, when set,
// makes the request idempotent: a repeated key returns the first gift's receipt and moves nothing.
type GiftRequest struct {
	From      int64
	FromPhone string // the sender's number shown to the recipient
	To        string // any common phone format
	Points    int64
	Key       string
}

// GiftReceipt is a completed gift.
type GiftReceipt struct {
	ID          int64
	FromAccount int64
	ToAccount   int64
	FromPhone   string
	ToPhone     string
	Points      int64
	Balance     int64 // the sender's balance after the gift
	Lots        []Lot // what moved, with the dates it keeps
	At          time.Time
	key         string // the request's idempotency key, stored with the gift
}

// Gift moves points from one account to the account holding another phone. The points keep their
// expiry dates: the sender's soonest-expiring lots go first and land in the recipient's lots of the
// same dates. Concurrent gifts are committed together in one database transaction (group commit), each
// still all-or-nothing on its own. A request whose Key an earlier gift used gets that gift's receipt
// (with the sender's balance now) and moves nothing. Refusals: ErrGiftAmount, ErrInvalidPhone,
// ErrGiftRecipient, ErrGiftToSelf, ErrAccountBlocked, ErrUnknownAccount, ErrInsufficientPoints,
// ErrIdempotencyKeyReused, and *LimitError wrapping ErrGiftDailyLimit or ErrGiftMonthlyLimit with the
// instant the rule allows again.
func (s *Store) Gift(ctx context.Context, g GiftRequest) (GiftReceipt, error) {
	r, err := s.gifts.submit(ctx, g)
	if err != nil {
		return GiftReceipt{}, fmt.Errorf("gift: %w", err)
	}
	return r, nil
}

// giftOutcome is one gift's answer within a batch.
type giftOutcome struct {
	receipt GiftReceipt
	err     error // a refusal; faults fail the whole batch
	made    int   // 1 + the index in the batch's gifts of the gift this request made or repeats; 0 if none
}

// giftBatch is the in-memory state of one batch: the locked accounts and their live lots, updated gift
// after gift so that later gifts in the batch see what earlier ones did.
type giftBatch struct {
	now      time.Time
	today    time.Time
	accounts map[int64]lockedAccount
	phones   map[int64][]string // each sender's phones, first joined first
	lots     map[int64][]Lot    // live lots, soonest first
	history  map[int64]*senderHistory
	deltas   lotChanges // net change per lot, written at the end
	// recipients maps each recipient phone to its account.
	recipients map[string]int64
	// keyed holds each request key already used, by a committed gift or by a gift of this batch.
	keyed map[string]keyedGift
	// txIDs and giftIDs are taken ahead, one per gift the batch may make; unused ones leave gaps.
	txIDs, giftIDs []int64
	journal        []journalTx
	gifts          []GiftReceipt
}

// giftBatchTx applies gifts in order inside tx: reads everything it needs in a few set-based queries,
// decides each gift in memory, then writes all lot changes, journal entries and gift rows at once.
func (s *Store) giftBatchTx(ctx context.Context, tx pgx.Tx, reqs []GiftRequest, now time.Time) ([]giftOutcome, error) {
	out := make([]giftOutcome, len(reqs))
	toPhones := make([]string, len(reqs))
	for i, g := range reqs {
		if g.Points < 1 || g.Points > MaxGift {
			out[i].err = ErrGiftAmount
			continue
		}
		p, err := ParsePhone(g.To)
		if err != nil {
			out[i].err = err
			continue
		}
		toPhones[i] = p
	}
	var senders []int64
	var keys []string
	for i, g := range reqs {
		if out[i].err == nil {
			senders = append(senders, g.From)
			if g.Key != "" {
				keys = append(keys, g.Key)
			}
		}
	}
	b, err := s.loadGiftBatch(ctx, tx, senders, toPhones, keys, now)
	if err != nil {
		return nil, err
	}
	for i, g := range reqs {
		if out[i].err == nil {
			out[i] = s.decideGift(b, g, toPhones[i])
		}
	}
	if err := s.writeGiftBatch(ctx, tx, b); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].made > 0 {
			out[i].receipt = b.gifts[out[i].made-1] // now with its id
		}
	}
	return out, nil
}

// loadGiftBatch reads everything the batch needs in one round trip: the recipients' accounts, then,
// locked in ascending id order (so concurrent batches cannot deadlock), every account involved, the
// senders' phones, the live lots of all involved accounts and, when limits apply, this month's gifts.
// It also reads the committed gifts of the requests' keys, and takes the journal and gift ids the
// batch may use.
func (s *Store) loadGiftBatch(ctx context.Context, tx pgx.Tx, senders []int64, toPhones, keys []string, now time.Time) (*giftBatch, error) {
	b := &giftBatch{now: now, today: s.LocalDate(now), recipients: map[string]int64{}, accounts: map[int64]lockedAccount{},
		phones: map[int64][]string{}, lots: map[int64][]Lot{}, history: map[int64]*senderHistory{}, deltas: lotChanges{},
		keyed: map[string]keyedGift{}}
	if len(senders) == 0 {
		return b, nil
	}
	var (
		id, txID, giftID int64
		phone            string
		a                lockedAccount
		lot              Lot
	)
	q := &pgx.Batch{}
	q.Queue(`SELECT phone, account_id FROM phones WHERE phone = ANY($1)`, toPhones).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&phone, &id}, func() error { b.recipients[phone] = id; return nil })
		return err
	})
	// ARRAY(...) is computed once, so both lookups below stay index scans.
	const involved = `ARRAY(SELECT unnest($1::bigint[]) UNION SELECT account_id FROM phones WHERE phone = ANY($2))`
	q.Queue(`SELECT id, blocked, debt FROM accounts WHERE id = ANY(`+involved+`) ORDER BY id FOR UPDATE`, senders, toPhones).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&a.id, &a.blocked, &a.debt}, func() error { b.accounts[a.id] = a; return nil })
		return err
	})
	q.Queue(`SELECT account_id, phone FROM phones WHERE account_id = ANY($1) ORDER BY account_id, added_at, phone`, senders).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&id, &phone}, func() error { b.phones[id] = append(b.phones[id], phone); return nil })
		return err
	})
	// The account locks already exclude other spenders; FOR UPDATE also keeps a sweep off these lots.
	q.Queue(`SELECT account_id, expires_on, points FROM lots
		WHERE account_id = ANY(`+involved+`) AND expires_on >= $3 AND points > 0
		ORDER BY account_id, expires_on FOR UPDATE`, senders, toPhones, b.today).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&id, &lot.ExpiresOn, &lot.Points}, func() error { b.lots[id] = append(b.lots[id], lot); return nil })
		return err
	})
	if rules := s.giftRules(); !rules.limits.none() {
		// Read after the locks: every earlier gift of these senders has committed by now.
		q.Queue(giftHistoryQuery, senders, rules.monthStart(now)).Query(func(rows pgx.Rows) error {
			return scanGiftHistory(rows, b.senderHistory)
		})
	}
	if len(keys) > 0 {
		// Read after the locks, like the history: a gift made with one of these keys has committed by now.
		q.Queue(keyedGiftsQuery, keys).Query(func(rows pgx.Rows) error { return scanKeyedGifts(rows, b.keyed) })
	}
	q.Queue(`SELECT nextval('journal_tx_seq'), nextval('gifts_id_seq') FROM generate_series(1, $1)`, len(senders)).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&txID, &giftID}, func() error {
			b.txIDs, b.giftIDs = append(b.txIDs, txID), append(b.giftIDs, giftID)
			return nil
		})
		return err
	})
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return nil, fmt.Errorf("gift batch: %w", err)
	}
	return b, nil
}

func (b *giftBatch) senderHistory(id int64) *senderHistory {
	h := b.history[id]
	if h == nil {
		h = &senderHistory{}
		b.history[id] = h
	}
	return h
}

func (s *Store) giftRules() giftRules {
	return giftRules{loc: s.opts.Location, limits: s.giftLimits}
}

// decideGift applies one gift to the batch's state, or refuses it leaving the state as it was. A
// request repeating a keyed gift gets that gift and changes nothing.
func (s *Store) decideGift(b *giftBatch, g GiftRequest, toPhone string) giftOutcome {
	if prior, ok := b.keyed[g.Key]; ok && g.Key != "" {
		if !prior.receipt.repeats(g, toPhone) {
			return giftOutcome{err: ErrIdempotencyKeyReused}
		}
		if prior.made > 0 {
			return giftOutcome{made: prior.made}
		}
		r := prior.receipt
		r.Balance = sumLots(b.lots[g.From])
		return giftOutcome{receipt: r}
	}
	to := b.recipients[toPhone]
	from, ok := b.accounts[g.From]
	switch {
	case to == 0:
		return giftOutcome{err: ErrGiftRecipient}
	case to == g.From:
		return giftOutcome{err: ErrGiftToSelf}
	case !ok:
		return giftOutcome{err: ErrUnknownAccount}
	case from.blocked:
		return giftOutcome{err: ErrAccountBlocked}
	case b.accounts[to].blocked:
		return giftOutcome{err: ErrGiftRecipient}
	}
	if err := s.giftRules().check(*b.senderHistory(g.From), to, b.now); err != nil {
		return giftOutcome{err: err}
	}
	lots := b.lots[g.From]
	if sumLots(lots) < g.Points {
		return giftOutcome{err: ErrInsufficientPoints}
	}
	moved := pickLots(lots, g.Points)
	b.lots[g.From] = removeLots(lots, moved)
	b.lots[to] = mergeSorted(b.lots[to], moved)
	b.deltas.addLots(g.From, moved, -1)
	b.deltas.addLots(to, moved, 1)
	var fromPhone string
	if phones := b.phones[g.From]; len(phones) > 0 {
		fromPhone = phones[0]
	}
	if p, err := ParsePhone(g.FromPhone); err == nil && slices.Contains(b.phones[g.From], p) {
		fromPhone = p // the number the sender asked with, if it is theirs
	}
	j := journalTx{kind: "gift", at: b.now}
	j.moveLots(g.From, moved, -1, toPhone)
	j.moveLots(to, moved, 1, fromPhone)
	b.journal = append(b.journal, j)
	h := b.senderHistory(g.From)
	h.gifts = append(h.gifts, pastGift{at: b.now, to: to})
	r := GiftReceipt{FromAccount: g.From, ToAccount: to, FromPhone: fromPhone, ToPhone: toPhone,
		Points: g.Points, Balance: sumLots(b.lots[g.From]), Lots: moved, At: b.now, key: g.Key}
	b.gifts = append(b.gifts, r)
	if g.Key != "" {
		b.keyed[g.Key] = keyedGift{receipt: r, made: len(b.gifts)}
	}
	return giftOutcome{made: len(b.gifts)}
}

// writeGiftBatch writes the batch's net lot changes, one journal transaction per gift and the gift
// rows, in one round trip, then runs OnGift for each gift inside the same transaction.
func (s *Store) writeGiftBatch(ctx context.Context, tx pgx.Tx, b *giftBatch) error {
	if len(b.gifts) == 0 {
		return nil
	}
	n := len(b.gifts)
	txIDs, giftIDs := b.txIDs[:n], b.giftIDs[:n]
	batch := &pgx.Batch{}
	queueLotChanges(batch, b.deltas)
	if err := queueJournals(batch, b.journal, txIDs); err != nil {
		return err
	}
	var from, to []int64
	var fromPhones, toPhones []string
	var points []int64
	keys := make([]*string, n)
	for i := range b.gifts {
		r := &b.gifts[i]
		r.ID = giftIDs[i]
		from, to = append(from, r.FromAccount), append(to, r.ToAccount)
		fromPhones, toPhones, points = append(fromPhones, r.FromPhone), append(toPhones, r.ToPhone), append(points, r.Points)
		if r.key != "" {
			keys[i] = &r.key
		}
	}
	batch.Queue(`
		INSERT INTO gifts (id, from_account, to_account, from_phone, to_phone, points, tx_id, request_key, created_at)
		SELECT *, $9::timestamptz FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[],
		  $7::bigint[], $8::text[])`,
		giftIDs, from, to, fromPhones, toPhones, points, txIDs, keys, b.now)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("move points: %w", err)
	}
	if s.opts.OnGift != nil {
		for _, r := range b.gifts {
			if err := s.opts.OnGift(ctx, tx, r); err != nil {
				return fmt.Errorf("on gift: %w", err)
			}
		}
	}
	return nil
}

// removeLots subtracts taken (a prefix-wise pick from lots) and drops emptied lots.
func removeLots(lots, taken []Lot) []Lot {
	out := make([]Lot, 0, len(lots))
	for i, l := range lots {
		if i < len(taken) {
			l.Points -= taken[i].Points
		}
		if l.Points > 0 {
			out = append(out, l)
		}
	}
	return out
}

// mergeSorted adds credit to lots, keeping them soonest first.
func mergeSorted(lots, credit []Lot) []Lot {
	out := mergeLots(append(append([]Lot(nil), lots...), credit...))
	slices.SortFunc(out, func(a, b Lot) int { return a.ExpiresOn.Compare(b.ExpiresOn) })
	return out
}
