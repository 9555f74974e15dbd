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
// It refuses an unbalanced transaction, which would be a bug in the caller, not a user error.
func (j *journalTx) queue(b *pgx.Batch, txID *int64) error {
	var sum int64
	for _, e := range j.entries {
		sum += e.points
	}
	if sum != 0 {
		return fmt.Errorf("journal: %s transaction does not balance (%d)", j.kind, sum)
	}
	books := make([]string, len(j.entries))
	accounts := make([]*int64, len(j.entries))
	dates := make([]*time.Time, len(j.entries))
	points := make([]int64, len(j.entries))
	details := make([]string, len(j.entries))
	for i, e := range j.entries {
		books[i], points[i], details[i] = e.book, e.points, cmp.Or(e.detail, j.detail)
		if e.accountID != 0 {
			accounts[i] = &e.accountID
		}
		if !e.expiresOn.IsZero() {
			dates[i] = &e.expiresOn
		}
	}
	b.Queue(`
		WITH id AS (SELECT nextval('journal_tx_seq') AS v),
		     ins AS (
				INSERT INTO journal (tx_id, kind, at, book, account_id, expires_on, points, detail)
				SELECT id.v, $1, $2, b, a, d, p, x
				FROM id, unnest($3::text[], $4::bigint[], $5::date[], $6::bigint[], $7::text[]) AS t(b, a, d, p, x))
		SELECT v FROM id`,
		j.kind, j.at, books, accounts, dates, points, details).QueryRow(func(row pgx.Row) error {
		return row.Scan(txID)
	})
	return nil
}

// queueJournals adds to b one insert for many journal transactions whose ids were taken beforehand.
func queueJournals(b *pgx.Batch, js []journalTx, txIDs []int64) error {
	var (
		ids, accounts []*int64
		kinds, books  []string
		details       []string
		dates         []*time.Time
		points        []int64
		ats           []time.Time
	)
	for i := range js {
		j := &js[i]
		var sum int64
		for _, e := range j.entries {
			sum += e.points
			ids = append(ids, &txIDs[i])
			kinds, books, details = append(kinds, j.kind), append(books, e.book), append(details, cmp.Or(e.detail, j.detail))
			points, ats = append(points, e.points), append(ats, j.at)
			var acct *int64
			if e.accountID != 0 {
				acct = &e.accountID
			}
			accounts = append(accounts, acct)
			var d *time.Time
			if !e.expiresOn.IsZero() {
				d = &e.expiresOn
			}
			dates = append(dates, d)
		}
		if sum != 0 {
			return fmt.Errorf("journal: %s transaction does not balance (%d)", j.kind, sum)
		}
	}
	b.Queue(`
		INSERT INTO journal (tx_id, kind, at, book, account_id, expires_on, points, detail)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::date[], $7::bigint[], $8::text[])`,
		ids, kinds, ats, books, accounts, dates, points, details)
	return nil
}
