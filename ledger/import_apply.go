package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// The steps of importChunkTx, each one statement over the chunk. They mirror accrueTx: rule, then
// replay check, then enrolment, then the account lock and its checks, then lots, journal and event.
//
// Lookups in the big tables (phones, billing_events, accounts) are written as one index probe per row
// (a correlated subquery, or LATERAL … OFFSET 0), so a chunk costs the same whether the ledger holds a
// thousand events or a billion; left to itself the planner would hash or merge-join the whole table.
const (
	importStage = `
		CREATE TEMP TABLE import_stage (
			line int, id text, phone text, category text, amount bigint, points bigint,
			occurred_at timestamptz, expires_on date, expired boolean
		) ON COMMIT DROP`
)

// importRows applies the earn rules. same_as_stored: NULL for a new id, true for a replay, false for a
// conflict (as duplicateOf). It is looked up here only for unknown phones, which are enrolled only for
// new ids; the other rows get it under the account lock (importRecheck). A row born expired is refused
// only when its id is new: a replay stays a duplicate (or a conflict), as in accrueTx. The awarded
// points are capped as earnedPoints caps them, by the same constant.
var importRows = `
		CREATE TEMP TABLE import_rows ON COMMIT DROP AS
		SELECT s.line, s.id, s.phone, s.category, s.amount, s.points, s.occurred_at, s.expires_on,
		       CASE WHEN r.category IS NULL THEN 'unknown_category'
		            WHEN s.points IS NULL AND s.amount IS NOT NULL AND r.kopecks_per_point IS NULL THEN 'fixed_category'
		            WHEN s.points IS NULL AND s.amount IS NULL AND r.fixed_points IS NULL THEN 'amount_required'
		            WHEN s.points IS NULL AND coalesce(s.amount / r.kopecks_per_point, r.fixed_points) > ` + strconv.Itoa(MaxEventPoints) + ` THEN 'too_many_points'
		            WHEN s.expired AND NOT EXISTS (SELECT FROM billing_events e WHERE e.id = s.id) THEN 'expired' END AS err,
		       coalesce(s.points, s.amount / r.kopecks_per_point, r.fixed_points) AS awarded,
		       p.account_id,
		       CASE WHEN p.account_id IS NULL THEN
		            (SELECT ` + sameAsStored + ` FROM billing_events e WHERE e.id = s.id) END AS same_as_stored
		FROM import_stage s
		LEFT JOIN earn_rules r ON r.category = s.category
		LEFT JOIN LATERAL (SELECT account_id FROM phones WHERE phone = s.phone OFFSET 0) p ON true`

const (
	sameAsStored = `(e.reverses IS NULL AND e.phone IS NOT DISTINCT FROM s.phone
		AND e.category IS NOT DISTINCT FROM s.category AND e.amount_kopecks IS NOT DISTINCT FROM s.amount
		AND e.points IS NOT DISTINCT FROM s.points AND e.occurred_at = s.occurred_at)`
	// Under the lock, look (again): an Accrue or import on these accounts that committed while we
	// waited is visible now, and its ids are replays (or conflicts), not new events.
	importRecheck = `
		UPDATE import_rows s SET same_as_stored = (SELECT ` + sameAsStored + ` FROM billing_events e WHERE e.id = s.id)
		WHERE s.err IS NULL AND s.same_as_stored IS NULL
		  AND (SELECT true FROM billing_events e WHERE e.id = s.id)`

	// Unlike Accrue, a row that reuses an earlier row's new id with another, unknown phone (a conflict)
	// still enrols that phone: harmless, and it spares a pass to find each id's first row here.
	importNewPhones = `
		CREATE TEMP TABLE import_new ON COMMIT DROP AS
		SELECT phone, nextval(pg_get_serial_sequence('accounts', 'id')) AS account_id
		FROM (SELECT DISTINCT phone FROM import_rows
		      WHERE err IS NULL AND same_as_stored IS NULL AND account_id IS NULL ORDER BY phone) x`
	importAccounts = `INSERT INTO accounts (id) SELECT account_id FROM import_new`
	// A concurrent enrolment may win a phone; that phone's new account is then dropped, as enrolPhone does.
	importPhones  = `INSERT INTO phones (phone, account_id) SELECT phone, account_id FROM import_new ON CONFLICT (phone) DO NOTHING`
	importOrphans = `DELETE FROM accounts WHERE id IN (SELECT account_id FROM import_new n WHERE NOT EXISTS (SELECT 1 FROM phones p WHERE p.account_id = n.account_id))`
	importResolve = `
		UPDATE import_rows r SET account_id = (SELECT account_id FROM phones p WHERE p.phone = r.phone)
		WHERE r.account_id IS NULL AND r.err IS NULL AND r.same_as_stored IS NULL`
	// Accounts are locked in ascending id order, the ledger's one lock order, and kept for the joins below.
	importLockAccts = `
		CREATE TEMP TABLE import_accts ON COMMIT DROP AS
		SELECT a.id, a.blocked, a.debt
		FROM (SELECT DISTINCT account_id FROM import_rows
		      WHERE err IS NULL AND same_as_stored IS NULL AND account_id IS NOT NULL ORDER BY account_id) r
		CROSS JOIN LATERAL (SELECT id, blocked, debt FROM accounts a WHERE a.id = r.account_id FOR UPDATE) a`

	// The first good row of each id is applied; a later row with that id is a replay or a conflict.
	importFirst = `
		CREATE TEMP TABLE import_first ON COMMIT DROP AS
		SELECT DISTINCT ON (r.id) r.*, a.debt > 0 AS in_debt
		FROM import_rows r JOIN import_accts a ON a.id = r.account_id
		WHERE r.err IS NULL AND r.same_as_stored IS NULL AND NOT a.blocked
		ORDER BY r.id, r.line`
	importFate = `
		CREATE TEMP TABLE import_fate ON COMMIT DROP AS
		SELECT r.line, r.id, r.category,
		       CASE WHEN r.err IS NOT NULL THEN r.err
		            WHEN r.same_as_stored THEN 'duplicate'
		            WHEN NOT r.same_as_stored THEN 'conflict'
		            WHEN a.blocked THEN 'blocked'
		            WHEN (f.phone, f.category, f.amount, f.points, f.occurred_at)
		                 IS NOT DISTINCT FROM (r.phone, r.category, r.amount, r.points, r.occurred_at) THEN 'duplicate'
		            ELSE 'conflict' END AS fate
		FROM import_rows r
		LEFT JOIN import_accts a ON a.id = r.account_id
		LEFT JOIN import_first f ON f.id = r.id
		WHERE f.line IS DISTINCT FROM r.line`

	// One journal transaction per event, numbered in file order, as sequential Accrue calls would.
	importOK = `
		CREATE TEMP TABLE import_ok ON COMMIT DROP AS
		SELECT nextval('journal_tx_seq') AS tx_id, f.*
		FROM (SELECT line, id, phone, category, amount, points, occurred_at, expires_on, awarded, account_id
		      FROM import_first WHERE NOT in_debt ORDER BY line) f`
	importLots = `
		INSERT INTO lots (account_id, expires_on, points)
		SELECT account_id, expires_on, sum(awarded) FROM import_ok WHERE awarded > 0
		GROUP BY account_id, expires_on ORDER BY account_id, expires_on
		ON CONFLICT (account_id, expires_on) DO UPDATE SET points = lots.points + excluded.points`
	importJournal = `
		INSERT INTO journal (tx_id, kind, book, account_id, expires_on, points, detail, at)
		SELECT o.tx_id, 'accrual', b.book,
		       CASE WHEN b.book = 'lot' THEN o.account_id END, CASE WHEN b.book = 'lot' THEN o.expires_on END,
		       CASE WHEN b.book = 'lot' THEN o.awarded ELSE -o.awarded END, o.category, o.occurred_at
		FROM import_ok o CROSS JOIN (VALUES (1, 'issuance'), (2, 'lot')) AS b(ord, book)
		WHERE o.awarded > 0
		ORDER BY o.tx_id, b.ord`
	importEvents = `
		INSERT INTO billing_events (id, phone, category, amount_kopecks, points, occurred_at,
		                            account_id, awarded, expires_on, tx_id, received_at)
		SELECT id, phone, category, amount, points, occurred_at, account_id, awarded, expires_on, tx_id, $1
		FROM import_ok ORDER BY id` // sorted keys fill the primary key's pages in turn
)

// importChunkTx applies one chunk of staged rows in tx. Rolling back undoes the whole chunk, so withTx
// may run it again (a concurrent Accrue of an id in the chunk makes the event insert fail and retry).
//
// With perLine it also says, by line, what each applied or replayed row did (AccrueBatch needs that).
func (s *Store) importChunkTx(ctx context.Context, tx pgx.Tx, rows []stagedRow, now time.Time, perLine bool) (chunkResult, error) {
	var sum chunkResult
	if perLine {
		sum.lines = make(map[int32]AccrualResult, len(rows))
	}
	if err := stageChunk(ctx, tx, rows); err != nil {
		return sum, err
	}
	var err error
	if sum.Enrolled, err = importEnrol(ctx, tx); err != nil {
		return sum, err
	}
	if err := execSteps(ctx, tx, []step{{"lock", importLockAccts}, {"recheck", importRecheck}}); err != nil {
		return sum, err
	}
	first, err := tx.Exec(ctx, importFirst)
	if err != nil {
		return sum, fmt.Errorf("first: %w", err)
	}
	// Usually every row is new and good; only otherwise is there a fate to find out and report.
	withFates := first.RowsAffected() < int64(len(rows))
	if err := writeChunk(ctx, tx, now, withFates, &sum); err != nil {
		return sum, err
	}
	if err := s.importInDebt(ctx, tx, now, &sum); err != nil {
		return sum, err
	}
	if withFates {
		if err := importFates(ctx, tx, &sum.ImportSummary); err != nil {
			return sum, err
		}
		if perLine {
			if err := collectLines(ctx, tx, `SELECT line, true, 0, 0 FROM import_fate WHERE fate = 'duplicate'`, sum.lines); err != nil {
				return sum, err
			}
		}
	}
	return sum, nil
}

// stageChunk COPYs the rows into import_stage and derives import_rows: rule, phone and early replay check.
func stageChunk(ctx context.Context, tx pgx.Tx, rows []stagedRow) error {
	// The temp tables of a chunk are some tens of MB; the default 8 MB of temp buffers would spill them.
	// The temp tables have no statistics, so a misestimate could nest-loop two of them (50,000² rows):
	// joins among them are hashed; the per-row probes into big tables are nested loops by construction.
	// That makes plan costs look huge, and JIT would then spend more compiling than the statement runs.
	// A chunk is bulk work: its statements may take bulkTimeout.
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL temp_buffers = '256MB'; SET LOCAL work_mem = '64MB';
		SET LOCAL enable_nestloop = off; SET LOCAL jit = off; SET LOCAL statement_timeout = %d`, bulkTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if _, err := tx.Exec(ctx, importStage); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_stage"},
		[]string{"line", "id", "phone", "category", "amount", "points", "occurred_at", "expires_on", "expired"},
		&stageSource{rows: rows, i: -1})
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	return execSteps(ctx, tx, []step{{"rules", importRows}})
}

// writeChunk numbers the applied rows and writes their lots, journal and billing events.
func writeChunk(ctx context.Context, tx pgx.Tx, now time.Time, withFates bool, sum *chunkResult) error {
	steps := []step{{"number", importOK}, {"lots", importLots}}
	if withFates {
		steps = append([]step{{"fate", importFate}}, steps...)
	}
	if err := execSteps(ctx, tx, steps); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, importJournal); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := tx.Exec(ctx, importEvents, now); err != nil {
		if isCode(err, "23505") { // a concurrent Accrue recorded one of these ids first
			return errRetry
		}
		return fmt.Errorf("events: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(awarded), 0) FROM import_ok`).Scan(&sum.Accepted, &sum.Points); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	if sum.lines != nil {
		return collectLines(ctx, tx, `SELECT line, false, account_id, awarded FROM import_ok`, sum.lines)
	}
	return nil
}

// stageSource feeds staged rows to COPY without allocating per row: pgx encodes each row's values
// before asking for the next, so one slice of pointers into the row serves them all.
type stageSource struct {
	rows []stagedRow
	i    int
	vals [9]any
}

func (s *stageSource) Next() bool { s.i++; return s.i < len(s.rows) }

func (s *stageSource) Values() ([]any, error) {
	r := &s.rows[s.i]
	s.vals = [9]any{&r.line, &r.id, &r.phone, &r.cat, r.amount, r.points, &r.occurredAt, &r.expiresOn, &r.expired}
	return s.vals[:], nil
}

func (s *stageSource) Err() error { return nil }

// chunkResult is what one chunk did; lines is set only when asked for.
type chunkResult struct {
	ImportSummary
	lines map[int32]AccrualResult // line → what it did, for applied and replayed rows
}

func collectLines(ctx context.Context, tx pgx.Tx, query string, into map[int32]AccrualResult) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	var line int32
	var r AccrualResult
	_, err = pgx.ForEachRow(rows, []any{&line, &r.Duplicate, &r.AccountID, &r.Points}, func() error {
		into[line] = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	return nil
}

// importEnrol gives each unknown phone of the chunk a new account and returns how many it enrolled.
func importEnrol(ctx context.Context, tx pgx.Tx) (int, error) {
	tag, err := tx.Exec(ctx, importNewPhones)
	if err != nil {
		return 0, fmt.Errorf("new phones: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, importAccounts); err != nil {
		return 0, fmt.Errorf("new accounts: %w", err)
	}
	phones, err := tx.Exec(ctx, importPhones)
	if err != nil {
		return 0, fmt.Errorf("enrol: %w", err)
	}
	steps := []step{{"resolve", importResolve}}
	if phones.RowsAffected() < tag.RowsAffected() {
		steps = append(steps, step{"orphans", importOrphans})
	}
	if err := execSteps(ctx, tx, steps); err != nil {
		return 0, err
	}
	return int(phones.RowsAffected()), nil
}

type step struct{ name, sql string }

func execSteps(ctx context.Context, tx pgx.Tx, steps []step) error {
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return nil
}

// importInDebt applies, one by one through accrueTx, the rows of accounts that owe debt, so each
// accrual pays the debt off first exactly as Accrue does. Such accounts are rare.
func (s *Store) importInDebt(ctx context.Context, tx pgx.Tx, now time.Time, sum *chunkResult) error {
	type lineEvent struct {
		line int32
		ev   Event
	}
	rows, err := tx.Query(ctx, `
		SELECT line, id, phone, category, amount, points, occurred_at FROM import_first WHERE in_debt ORDER BY line`)
	if err != nil {
		return fmt.Errorf("in debt: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lineEvent, error) {
		var le lineEvent
		err := r.Scan(&le.line, &le.ev.ID, &le.ev.Phone, &le.ev.Category, &le.ev.Amount, &le.ev.Points, &le.ev.OccurredAt)
		return le, err
	})
	if err != nil {
		return fmt.Errorf("in debt: %w", err)
	}
	for _, le := range events {
		res, err := s.accrueTx(ctx, tx, le.ev, now)
		if err != nil { // every refusal was ruled out above, so this is a fault: the chunk rolls back
			return fmt.Errorf("in debt: %q: %w", le.ev.ID, err)
		}
		sum.Accepted++
		sum.Points += res.Points
		if sum.lines != nil {
			sum.lines[le.line] = res
		}
	}
	return nil
}

// importFates counts replays and reports every other row that was not applied, with Accrue's refusal.
func importFates(ctx context.Context, tx pgx.Tx, sum *ImportSummary) error {
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM import_fate WHERE fate = 'duplicate'`).Scan(&sum.Duplicates); err != nil {
		return fmt.Errorf("fates: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT line, id, category, fate FROM import_fate WHERE fate <> 'duplicate'`)
	if err != nil {
		return fmt.Errorf("fates: %w", err)
	}
	var line int
	var id, category, fate string
	_, err = pgx.ForEachRow(rows, []any{&line, &id, &category, &fate}, func() error {
		var e error
		switch fate {
		case "unknown_category":
			e = fmt.Errorf("%w: %q", ErrUnknownCategory, category)
		case "fixed_category":
			e = fmt.Errorf("%w: category %q awards fixed points, not per amount", ErrInvalidEvent, category)
		case "amount_required":
			e = fmt.Errorf("%w: amount is required for %q", ErrInvalidEvent, category)
		case "too_many_points":
			e = fmt.Errorf("%w: earns more than %d points for one event", ErrInvalidAmount, MaxEventPoints)
		case "expired":
			e = ErrExpiredEvent
		case "conflict":
			e = ErrEventConflict
		case "blocked":
			e = ErrAccountBlocked
		default:
			return fmt.Errorf("unknown fate %q", fate)
		}
		sum.Rejected = append(sum.Rejected, ImportError{Line: line, ID: id, Err: e})
		return nil
	})
	if err != nil {
		return fmt.Errorf("fates: %w", err)
	}
	return nil
}
