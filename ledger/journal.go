package ledger

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Journal books. Account books carry account_id; system books do not.
const (
	bookLot        = "lot"
	bookDebt       = "debt"
	bookIssuance   = "issuance"
	bookRedemption = "redemption"
	bookExpiry     = "expiry"
	bookAdjustment = "adjustment"
)

// entry is one journal line; a transaction's entries sum to zero.
type entry struct {
	book      string
	accountID int64     // 0 for system books
	expiresOn time.Time // zero unless book is lot
	points    int64
	detail    string // overrides the transaction's detail for this line (each side of a gift names the other)
}

// journalTx collects the entries of one journal transaction before they are written together.
type journalTx struct {
	kind    string
	detail  string
	at      time.Time
	entries []entry
}

func (j *journalTx) add(book string, accountID int64, expiresOn time.Time, points int64) {
	if points != 0 {
		j.entries = append(j.entries, entry{book: book, accountID: accountID, expiresOn: expiresOn, points: points})
	}
}

// lots adds one lot entry per lot, with sign applied; a non-empty detail overrides the transaction's.
func (j *journalTx) lots(accountID int64, lots []Lot, sign int64, detail string) {
	for _, l := range lots {
		if l.Points != 0 {
			j.entries = append(j.entries, entry{bookLot, accountID, l.ExpiresOn, sign * l.Points, detail})
		}
	}
}

// write appends the transaction to the journal and returns its id.
func (j *journalTx) write(ctx context.Context, tx pgx.Tx) (int64, error) {
	var txID int64
	b := &pgx.Batch{}
	if err := j.queue(b, &txID); err != nil {
		return 0, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	return txID, nil
}

// queue adds the journal insert to b, so it travels with the operation's other writes in one round
// trip; *txID is set when the batch runs, and later statements in b can use currval('journal_tx_seq').
func (j *journalTx) queue(b *pgx.Batch, txID *int64) error {
	var rows journalRows
	if err := rows.add(j, nil); err != nil {
		return err
	}
	b.Queue(`
		WITH id AS (SELECT nextval('journal_tx_seq') AS v),
		     ins AS (
				INSERT INTO journal (tx_id, kind, at, book, account_id, expires_on, points, detail)
				SELECT id.v, t.* FROM id,
				       unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[], $5::date[], $6::bigint[], $7::text[]) AS t)
		SELECT v FROM id`,
		rows.kinds, rows.ats, rows.books, rows.accounts, rows.dates, rows.points, rows.details).QueryRow(func(row pgx.Row) error {
		return row.Scan(txID)
	})
	return nil
}

// queueJournals adds to b one insert for many journal transactions whose ids were taken beforehand.
func queueJournals(b *pgx.Batch, js []journalTx, txIDs []int64) error {
	var rows journalRows
	for i := range js {
		if err := rows.add(&js[i], &txIDs[i]); err != nil {
			return err
		}
	}
	b.Queue(`
		INSERT INTO journal (tx_id, kind, at, book, account_id, expires_on, points, detail)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::date[], $7::bigint[], $8::text[])`,
		rows.ids, rows.kinds, rows.ats, rows.books, rows.accounts, rows.dates, rows.points, rows.details)
	return nil
}

// journalRows are journal lines as column arrays, for one unnest insert.
type journalRows struct {
	ids, accounts []*int64
	kinds, books  []string
	details       []string
	dates         []*time.Time
	points        []int64
	ats           []time.Time
}

// add appends j's lines under transaction id txID (nil when the statement numbers them). It refuses an
// unbalanced transaction, which would be a bug in the caller, not a user error.
func (r *journalRows) add(j *journalTx, txID *int64) error {
	var sum int64
	for _, e := range j.entries {
		sum += e.points
		r.ids = append(r.ids, txID)
		r.kinds, r.books, r.details = append(r.kinds, j.kind), append(r.books, e.book), append(r.details, cmp.Or(e.detail, j.detail))
		r.points, r.ats = append(r.points, e.points), append(r.ats, j.at)
		var acct *int64
		if e.accountID != 0 {
			acct = &e.accountID
		}
		r.accounts = append(r.accounts, acct)
		var d *time.Time
		if !e.expiresOn.IsZero() {
			d = &e.expiresOn
		}
		r.dates = append(r.dates, d)
	}
	if sum != 0 {
		return fmt.Errorf("journal: %s transaction does not balance (%d)", j.kind, sum)
	}
	return nil
}
