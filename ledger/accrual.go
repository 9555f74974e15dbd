package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Event is a billing event: an accrual (Phone, Category and Amount or Points) or a reversal of an
// earlier accrual (Reverses).
type Event struct {
	ID         string
	Phone      string
	Category   string
	Amount     *int64 // kopecks spent; points come from the category's earn rule
	Points     *int64 // a fixed award instead of an amount
	Reverses   string // id of the accrual this event claws back
	OccurredAt time.Time
}

// AccrualResult says what an event did.
type AccrualResult struct {
	Duplicate bool  // the event was seen before; nothing changed
	AccountID int64 //
	Points    int64 // awarded (accrual) or clawed back (reversal)
	Debt      int64 // of Points, what a reversal could not take and left as debt
}

// Accrue applies a billing event once. Replaying an event id returns Duplicate and changes nothing.
// An accrual for an unknown phone enrols it. Refusals: ErrInvalidEvent, ErrInvalidPhone,
// ErrInvalidAmount, ErrUnknownCategory, ErrEventConflict, ErrExpiredEvent, ErrUnknownEvent,
// ErrAlreadyReversed, ErrAccountBlocked.
func (s *Store) Accrue(ctx context.Context, ev Event) (AccrualResult, error) {
	r, err := s.accrue(ctx, ev, s.now())
	if err != nil {
		return AccrualResult{}, fmt.Errorf("accrue %q: %w", ev.ID, err)
	}
	return r, nil
}

// accrue applies one event in a transaction of its own: an accrual as a chunk of one, so that the
// single and the bulk paths are the same code.
func (s *Store) accrue(ctx context.Context, ev Event, now time.Time) (AccrualResult, error) {
	st, err := stageEvent(ev, now, nil)
	if err != nil {
		return AccrualResult{}, err
	}
	if st.reverses != "" {
		return withTx(ctx, s.pool, func(tx pgx.Tx) (AccrualResult, error) {
			return s.reverseTx(ctx, tx, &st, now)
		})
	}
	r, err := withTx(ctx, s.pool, func(tx pgx.Tx) (chunkResult, error) {
		return s.accrueChunkTx(ctx, tx, []stagedEvent{st}, now, false)
	})
	if err != nil {
		return AccrualResult{}, err
	}
	return r.results[0], r.errs[0]
}

// stagedEvent is an event that passed checkEvent, with its phone in E.164: as billing_events stores it.
type stagedEvent struct {
	line                          int32 // the CSV line, or the position in a batch plus one
	id, phone, category, reverses string
	amount, points                *int64
	occurredAt                    time.Time
}

// maxCachedPhones bounds stageEvent's cache of parsed phones (some 100 MB at most).
const maxCachedPhones = 1_000_000

// stageEvent applies the rules that need no database (checkEvent, ParsePhone) and normalises ev.
// phones, if not nil, caches ParsePhone across calls: billing repeats numbers, and parsing one is slow.
func stageEvent(ev Event, now time.Time, phones map[string]string) (stagedEvent, error) {
	// Postgres keeps microseconds: compared with a stored event, an instant to the nanosecond would
	// make every replay of it a conflict.
	st := stagedEvent{id: ev.ID, category: ev.Category, reverses: ev.Reverses, amount: ev.Amount, points: ev.Points,
		occurredAt: ev.OccurredAt.Truncate(time.Microsecond)}
	if err := checkEvent(ev, now); err != nil || ev.Reverses != "" {
		return st, err
	}
	if st.phone = phones[ev.Phone]; st.phone != "" {
		return st, nil
	}
	var err error
	if st.phone, err = ParsePhone(ev.Phone); err != nil {
		return st, err
	}
	if phones != nil {
		if len(phones) > maxCachedPhones {
			clear(phones) // bound the memory; a miss only costs time
		}
		phones[ev.Phone] = st.phone
	}
	return st, nil
}

// storedEvent is an event as billing_events keeps it, for duplicate detection.
type storedEvent struct {
	phone, category, reverses *string
	amount, points            *int64
	occurredAt                time.Time
	accountID, awarded        int64
}

// same says whether ev repeats the stored event: a replay, rather than a conflict.
func (st *storedEvent) same(ev *stagedEvent) bool {
	return eqStr(st.phone, ev.phone) && eqStr(st.category, ev.category) && eqStr(st.reverses, ev.reverses) &&
		eqInt(st.amount, ev.amount) && eqInt(st.points, ev.points) && st.occurredAt.Equal(ev.occurredAt)
}

// same says whether two events of one chunk carry the same content.
func (ev *stagedEvent) same(o *stagedEvent) bool {
	return ev.phone == o.phone && ev.category == o.category && ev.reverses == o.reverses &&
		eqInt(ev.amount, o.amount) && eqInt(ev.points, o.points) && ev.occurredAt.Equal(o.occurredAt)
}

func eqStr(stored *string, s string) bool {
	return (stored == nil && s == "") || (stored != nil && *stored == s)
}

func eqInt(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// storedEventQuery reads stored events by id ($1, an array); scanStoredEvents reads its rows.
const storedEventQuery = `SELECT id, phone, category, amount_kopecks, points, reverses, occurred_at, account_id, awarded
	FROM billing_events WHERE id = ANY($1)`

func scanStoredEvents(rows pgx.Rows, into map[string]storedEvent) error {
	var id string
	var st storedEvent
	_, err := pgx.ForEachRow(rows, []any{&id, &st.phone, &st.category, &st.amount, &st.points, &st.reverses,
		&st.occurredAt, &st.accountID, &st.awarded}, func() error {
		into[id] = st
		return nil
	})
	return err
}

// duplicateOf returns the earlier result if ev's id was recorded with the same content,
// ErrEventConflict if it was recorded with other content, and nil, nil for a new id.
func duplicateOf(ctx context.Context, tx pgx.Tx, ev *stagedEvent) (*AccrualResult, error) {
	stored := map[string]storedEvent{}
	rows, err := tx.Query(ctx, storedEventQuery, []string{ev.id})
	if err == nil {
		err = scanStoredEvents(rows, stored)
	}
	if err != nil {
		return nil, fmt.Errorf("event lookup: %w", err)
	}
	st, ok := stored[ev.id]
	switch {
	case !ok:
		return nil, nil
	case !st.same(ev):
		return nil, ErrEventConflict
	}
	return &AccrualResult{Duplicate: true, AccountID: st.accountID, Points: st.awarded}, nil
}

func derefResult(r *AccrualResult) AccrualResult {
	if r == nil {
		return AccrualResult{}
	}
	return *r
}

// eventRows are billing events to record, in one insert or one COPY: the only code that records events.
// The primary key stops a concurrent replay: the second insert waits for the first transaction, fails
// with a unique violation, and the caller returns errRetry so that withTx reruns it to find the first.
type eventRows struct {
	rows       []eventRow
	receivedAt time.Time
}

type eventRow struct {
	ev                       *stagedEvent
	accountID, awarded, txID int64
	expiresOn                *time.Time // the lot an accrual went into
	journalLine              bool       // the event carries its accrual's journal line (journalTx.carriedByEvent)
}

func (r *eventRows) add(row eventRow) { r.rows = append(r.rows, row) }

// copy COPYs the events: queue for a bulk chunk, the same rows by another road.
func (r *eventRows) copy(ctx context.Context, tx pgx.Tx) error {
	c := newCopyText(len(r.rows), 160)
	for _, row := range r.rows {
		ev := row.ev
		c.text(ev.id)
		c.textOrEmpty(ev.phone)
		c.textOrEmpty(ev.category)
		c.textOrEmpty(ev.reverses)
		c.intOrNull(ev.amount)
		c.intOrNull(ev.points)
		c.timestamp(ev.occurredAt)
		c.int(row.accountID)
		c.int(row.awarded)
		c.dateOrNull(row.expiresOn)
		c.int(row.txID)
		c.timestamp(r.receivedAt)
		c.bool(row.journalLine)
		c.end()
	}
	return c.send(ctx, tx, "billing_events", "id", "phone", "category", "reverses", "amount_kopecks", "points", "occurred_at",
		"account_id", "awarded", "expires_on", "tx_id", "received_at", "journal_line")
}

// orNil is s, or nil for an empty string (NULL in billing_events).
func orNil(s *string) *string {
	if *s == "" {
		return nil
	}
	return s
}

func (r *eventRows) queue(b *pgx.Batch) {
	if len(r.rows) == 0 {
		return
	}
	n := len(r.rows)
	ids, phones, categories, reverses := make([]string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	amounts, points, occurredAt := make([]*int64, n), make([]*int64, n), make([]time.Time, n)
	accounts, awarded, expiresOn, txIDs := make([]int64, n), make([]int64, n), make([]*time.Time, n), make([]int64, n)
	lines := make([]bool, n)
	for i, row := range r.rows {
		ev := row.ev
		ids[i], phones[i], categories[i], reverses[i] = ev.id, orNil(&ev.phone), orNil(&ev.category), orNil(&ev.reverses)
		amounts[i], points[i], occurredAt[i] = ev.amount, ev.points, ev.occurredAt
		accounts[i], awarded[i], expiresOn[i], txIDs[i], lines[i] = row.accountID, row.awarded, row.expiresOn, row.txID, row.journalLine
	}
	b.Queue(`
		INSERT INTO billing_events (id, phone, category, reverses, amount_kopecks, points, occurred_at,
		                            account_id, awarded, expires_on, tx_id, journal_line, received_at)
		SELECT *, $13::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
		       $7::timestamptz[], $8::bigint[], $9::bigint[], $10::date[], $11::bigint[], $12::boolean[])`,
		ids, phones, categories, reverses, amounts, points, occurredAt, accounts, awarded, expiresOn, txIDs, lines, r.receivedAt)
}
