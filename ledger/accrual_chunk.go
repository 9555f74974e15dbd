package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// accrueChunkTx applies staged accruals in tx, in order, exactly as Accrue would apply them one after
// another: Accrue is this with one event, AccrueBatch and ImportAccruals with many. It reads what the
// chunk needs in one round trip (the earn rules; the accounts of its phones, locked in ascending id
// order; the stored events of its ids), decides every event in memory (decideAccrual), enrols the
// phones that need an account, and writes debts, lots, journal and billing events set-based. When a
// concurrent writer enrolled one of the chunk's phones first, the enrolment rolls back to its savepoint
// and the chunk is read and decided again, now with that account. Rolling back tx undoes the whole
// chunk, so withTx may run it again: it returns errRetry when a concurrent writer recorded one of its
// ids first, and the rerun finds it.
//
// With trustNew, the chunk does not look its ids up: it takes every id for new, and the billing events'
// primary key refuses one recorded before (errRetry), so the caller runs it again without trustNew.
// An import of new events saves an index probe per event that way.
func (s *Store) accrueChunkTx(ctx context.Context, tx pgx.Tx, evs []stagedEvent, now time.Time, trustNew bool) (chunkResult, error) {
	var (
		c        *chunk
		outcomes = make([]accrualOutcome, len(evs))
		txIDs    []int64
		enrolled int
	)
	for attempt := 1; ; attempt++ {
		var err error
		if c, err = readChunk(ctx, tx, evs, !trustNew); err != nil {
			return chunkResult{}, err
		}
		for i := range evs {
			outcomes[i] = c.decideAccrual(s, &evs[i], now)
		}
		if trustNew {
			if err := recordedAfterAll(ctx, tx, evs, outcomes); err != nil {
				return chunkResult{}, err
			}
		}
		txIDs, enrolled, err = c.enrol(ctx, tx)
		if err == nil {
			break
		}
		if !errors.Is(err, errEnrolLost) || attempt == maxEnrolAttempts {
			return chunkResult{}, err
		}
	}
	if err := c.write(ctx, tx, txIDs, now); err != nil {
		return chunkResult{}, err
	}
	r := chunkResult{results: make([]AccrualResult, len(evs)), errs: make([]error, len(evs)), enrolled: enrolled}
	for i, o := range outcomes {
		r.results[i], r.errs[i] = o.result(c)
	}
	return r, nil
}

// recordedAfterAll returns errRetry if an event that trustNew refused for being too old or for its
// blocked account was recorded before: a replay is a duplicate whatever came since, and only a lookup
// tells (the primary key sees only the events that are written).
func recordedAfterAll(ctx context.Context, tx pgx.Tx, evs []stagedEvent, outcomes []accrualOutcome) error {
	var ids []string
	for i, o := range outcomes {
		if errors.Is(o.err, ErrExpiredEvent) || errors.Is(o.err, ErrAccountBlocked) {
			ids = append(ids, evs[i].id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var recorded bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM billing_events WHERE id = ANY($1))`, ids).Scan(&recorded); err != nil {
		return fmt.Errorf("refused ids: %w", err)
	}
	if recorded {
		return errRetry
	}
	return nil
}

// maxEnrolAttempts bounds how often a chunk reads and decides again because concurrent writers
// enrolled its phones first; after that withTx runs the whole transaction again.
const maxEnrolAttempts = 10

// errEnrolLost says a concurrent writer enrolled one of the chunk's phones first.
var errEnrolLost = fmt.Errorf("%w: a phone was enrolled concurrently", errRetry)

// chunkResult is what a chunk did to each of its events: a result, or a refusal.
type chunkResult struct {
	results  []AccrualResult
	errs     []error
	enrolled int // phones that got a new account
}

// chunk is what a chunk's decisions start from, and what they have done so far.
type chunk struct {
	rules    earnRules
	accounts map[string]*chunkAccount // by phone: the accounts the phones hold, and phones to enrol
	stored   map[string]storedEvent   // billing events recorded before, by id
	applied  map[string]int           // id → index in accruals of the event of the chunk that applied it
	accruals []accrual
}

// chunkAccount is an account as the chunk's decisions leave it.
type chunkAccount struct {
	id       int64  // 0 for a phone to enrol, until writeChunk enrols it
	phone    string // the phone to enrol
	blocked  bool
	debt     int64 // owed now, after the chunk's earlier accruals paid their share
	paid     int64 // debt the chunk's accruals paid, to write
	enrolled bool  // the chunk made this account
}

// accrual is an event the chunk applies.
type accrual struct {
	ev        *stagedEvent
	acct      *chunkAccount
	points    int64 // earned
	payDebt   int64 // of points, what goes to the account's debt
	expiresOn time.Time
}

// accrualOutcome is what decideAccrual made of one event: applied (the index in accruals, plus one),
// a duplicate of an earlier event of the chunk (likewise) or of a stored one, or a refusal.
type accrualOutcome struct {
	applied, dupOf int
	stored         *storedEvent
	err            error
}

func (o accrualOutcome) result(c *chunk) (AccrualResult, error) {
	switch {
	case o.err != nil:
		return AccrualResult{}, o.err
	case o.stored != nil:
		return AccrualResult{Duplicate: true, AccountID: o.stored.accountID, Points: o.stored.awarded}, nil
	case o.dupOf > 0:
		a := c.accruals[o.dupOf-1]
		return AccrualResult{Duplicate: true, AccountID: a.acct.id, Points: a.points}, nil
	}
	a := c.accruals[o.applied-1]
	return AccrualResult{AccountID: a.acct.id, Points: a.points}, nil
}

// readChunk reads, in one round trip, what deciding evs needs; the stored events of their ids only with
// lookup. The account locks are taken before the stored events are read, so every event of these
// accounts that committed before is seen.
func readChunk(ctx context.Context, tx pgx.Tx, evs []stagedEvent, lookup bool) (*chunk, error) {
	c := &chunk{accounts: map[string]*chunkAccount{}, stored: map[string]storedEvent{}, applied: make(map[string]int, len(evs)),
		accruals: make([]accrual, 0, len(evs))}
	phones, ids := make([]string, 0, len(evs)), make([]string, len(evs))
	seen := make(map[string]bool, len(evs))
	for i := range evs {
		ids[i] = evs[i].id
		if !seen[evs[i].phone] {
			seen[evs[i].phone] = true
			phones = append(phones, evs[i].phone)
		}
	}
	b := &pgx.Batch{}
	b.Queue(earnRulesQuery).Query(func(rows pgx.Rows) (err error) {
		c.rules, err = scanEarnRules(rows)
		return err
	})
	// Locked in ascending id order, the ledger's one lock order; two phones of one account share it.
	b.Queue(`SELECT p.phone, a.id, a.blocked, a.debt FROM phones p JOIN accounts a ON a.id = p.account_id
		WHERE p.phone = ANY($1) ORDER BY a.id FOR UPDATE OF a`, phones).Query(func(rows pgx.Rows) error {
		var phone string
		var a chunkAccount
		byID := map[int64]*chunkAccount{}
		_, err := pgx.ForEachRow(rows, []any{&phone, &a.id, &a.blocked, &a.debt}, func() error {
			if byID[a.id] == nil {
				acct := a
				byID[a.id] = &acct
			}
			c.accounts[phone] = byID[a.id]
			return nil
		})
		return err
	})
	if lookup {
		b.Queue(storedEventQuery, ids).Query(func(rows pgx.Rows) error { return scanStoredEvents(rows, c.stored) })
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return c, nil
}

// enrol gives each phone that needs an account a new one, inside a savepoint, and takes a journal
// transaction id for each accrual; it returns the ids and how many phones it enrolled. If a concurrent
// writer enrolled one of the phones first (the phone's primary key waits for it, then refuses), it
// rolls back to the savepoint and returns errEnrolLost: the accounts it made are gone, never seen by
// anyone, and never deleted.
func (c *chunk) enrol(ctx context.Context, tx pgx.Tx) ([]int64, int, error) {
	var enrol []*chunkAccount
	listed := map[*chunkAccount]bool{}
	for _, a := range c.accruals {
		if a.acct.id == 0 && !listed[a.acct] {
			listed[a.acct] = true
			enrol = append(enrol, a.acct)
		}
	}
	// One order, so two chunks enrolling the same phones wait for each other instead of deadlocking.
	slices.SortFunc(enrol, func(a, b *chunkAccount) int { return strings.Compare(a.phone, b.phone) })
	var accountIDs, txIDs []int64
	err := tx.QueryRow(ctx, `SELECT ARRAY(SELECT nextval('accounts_id_seq') FROM generate_series(1, $1)),
		ARRAY(SELECT nextval('journal_tx_seq') FROM generate_series(1, $2))`, len(enrol), len(c.accruals)).Scan(&accountIDs, &txIDs)
	if err != nil {
		return nil, 0, fmt.Errorf("ids: %w", err)
	}
	slices.Sort(accountIDs)
	slices.Sort(txIDs)
	if len(enrol) == 0 {
		return txIDs, 0, nil
	}
	for i, a := range enrol {
		a.id, a.enrolled = accountIDs[i], true
	}
	err = insertAccounts(ctx, tx, enrol)
	if isCode(err, "23505") {
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT enrol`); err != nil {
			return nil, 0, fmt.Errorf("enrol: %w", err)
		}
		return nil, 0, errEnrolLost
	}
	if err != nil {
		return nil, 0, fmt.Errorf("enrol: %w", err)
	}
	return txIDs, len(enrol), nil
}

// insertAccounts writes new accounts and their phones after a savepoint named enrol, which it releases
// once they are written: as COPY when there are many, else in one round trip.
func insertAccounts(ctx context.Context, tx pgx.Tx, accts []*chunkAccount) error {
	if len(accts) <= copyAbove {
		ids, phones := make([]int64, len(accts)), make([]string, len(accts))
		for i, a := range accts {
			ids[i], phones[i] = a.id, a.phone
		}
		// A failed insert skips the rest of the batch, RELEASE included.
		b := &pgx.Batch{}
		b.Queue(`SAVEPOINT enrol`)
		b.Queue(`INSERT INTO accounts (id) SELECT unnest($1::bigint[])`, ids)
		b.Queue(`INSERT INTO phones (phone, account_id) SELECT * FROM unnest($1::text[], $2::bigint[])`, phones, ids)
		b.Queue(`RELEASE SAVEPOINT enrol`)
		return tx.SendBatch(ctx, b).Close()
	}
	if _, err := tx.Exec(ctx, `SAVEPOINT enrol`); err != nil {
		return err
	}
	ids, phones := newCopyText(len(accts), 10), newCopyText(len(accts), 24)
	for _, a := range accts {
		ids.int(a.id)
		ids.end()
		phones.text(a.phone)
		phones.int(a.id)
		phones.end()
	}
	if err := ids.send(ctx, tx, "accounts", "id"); err != nil {
		return err
	}
	if err := phones.send(ctx, tx, "phones", "phone", "account_id"); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `RELEASE SAVEPOINT enrol`)
	return err
}

// copyAbove is how many accruals make a chunk bulk: its journal, billing events and the lots of the
// accounts it enrolled then travel as COPY. A smaller chunk (Accrue's, most of an ingest batch's)
// writes everything in one round trip.
const copyAbove = 200

// write writes the chunk's debts, lots, journal transactions (one per accrual, numbered in event
// order) and billing events.
func (c *chunk) write(ctx context.Context, tx pgx.Tx, txIDs []int64, now time.Time) error {
	if len(c.accruals) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	var payers []*chunkAccount
	listed := map[*chunkAccount]bool{}
	for _, a := range c.accruals {
		if a.acct.paid > 0 && !listed[a.acct] {
			listed[a.acct] = true
			payers = append(payers, a.acct)
		}
	}
	if len(payers) > 0 {
		ids, paid := make([]int64, len(payers)), make([]int64, len(payers))
		for i, a := range payers {
			ids[i], paid[i] = a.id, a.paid
		}
		b.Queue(`UPDATE accounts SET debt = debt - t.p FROM unnest($1::bigint[], $2::bigint[]) AS t(id, p) WHERE accounts.id = t.id`,
			ids, paid)
	}
	bulk := len(c.accruals) > copyAbove
	credits, fresh := lotChanges{}, make(lotChanges, len(c.accruals))
	lines := make([]journalLine, 2*len(c.accruals)) // at most two an accrual, in one allocation
	events := eventRows{rows: make([]eventRow, 0, len(c.accruals)), receivedAt: now}
	var lineless []journalTx // the transactions whose line is not carried by their event
	var linelessIDs []int64
	for i, a := range c.accruals {
		if bulk && a.acct.enrolled {
			fresh.add(a.acct.id, a.expiresOn, a.points-a.payDebt) // an account of this transaction has no lots yet
		} else {
			credits.add(a.acct.id, a.expiresOn, a.points-a.payDebt)
		}
		j := accrualJournal(a, lines[2*i:2*i:2*i+2])
		carried := j.carriedByEvent()
		if !carried {
			lineless, linelessIDs = append(lineless, j), append(linelessIDs, txIDs[i])
		}
		events.add(eventRow{ev: a.ev, accountID: a.acct.id, awarded: a.points, expiresOn: &a.expiresOn, txID: txIDs[i], journalLine: carried})
	}
	queueLotChanges(b, credits)
	if err := queueJournals(b, lineless, linelessIDs); err != nil {
		return err
	}
	if !bulk {
		events.queue(b)
		return sendWrites(ctx, tx, b)
	}
	if err := sendWrites(ctx, tx, b); err != nil {
		return err
	}
	if err := copyNewLots(ctx, tx, fresh); err != nil {
		return err
	}
	if err := events.copy(ctx, tx); err != nil {
		if isCode(err, "23505") { // a concurrent writer recorded one of these ids first
			return errRetry
		}
		return fmt.Errorf("events: %w", err)
	}
	return nil
}

// txIDsQuery takes $1 journal transaction ids.
const txIDsQuery = `SELECT ARRAY(SELECT nextval('journal_tx_seq') FROM generate_series(1, $1))`

// accrualJournal is an accrual's journal transaction, dated by its event (history shows when the
// points were earned; billing_events.received_at keeps when billing sent it): the issuance book pays
// the account's debt first, then the lot of the accrual's expiry date.
func accrualJournal(a accrual, lines []journalLine) journalTx {
	j := journalTx{kind: "accrual", detail: a.ev.category, at: a.ev.occurredAt, lines: lines}
	j.post(bookIssuance, a.acct.id, time.Time{}, a.payDebt)
	j.post(bookIssuance, a.acct.id, a.expiresOn, a.points-a.payDebt)
	return j
}

// sendWrites sends an operation's writes. A unique violation means a concurrent writer recorded one of
// its billing events or enrolled one of its phones first: the rerun withTx makes will find it.
func sendWrites(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	err := tx.SendBatch(ctx, b).Close()
	switch {
	case isCode(err, "23505") || errors.Is(err, errRetry):
		return errRetry
	case err != nil:
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
