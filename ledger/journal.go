package ledger

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Journal books. Account books carry account_id (a lot also its expiry date); system books do not.
const (
	bookLot        = "lot"
	bookDebt       = "debt"
	bookIssuance   = "issuance"
	bookRedemption = "redemption"
	bookExpiry     = "expiry"
	bookAdjustment = "adjustment"
)

// A journal transaction is a set of lines, each moving points into (positive) or out of (negative) an
// account book: a lot or a debt. A line's counterpart is either a system book it names (contra), and
// then the line records a whole transfer, balanced by itself — an accrual is one line, issuance into
// a lot — or the transaction's other lines without a contra, which must sum to zero with it: a gift
// moves points between two accounts' lots. Every write of the journal goes through journalTx, which
// refuses anything else, and writes the lines to journal_lines — all but an accrual's single line,
// which its billing event carries (carriedByEvent). The view journal shows both; journal_entries
// spells each line out as double entries (the account's, and the contra book's with the opposite
// sign), so every transaction's entries sum to zero.
type journalTx struct {
	kind   string // accrual, reversal, redeem, refund, gift, expiry, adjustment
	detail string
	at     time.Time
	lines  []journalLine
}

// journalLine is one line of a journal transaction.
type journalLine struct {
	book      string // bookLot or bookDebt
	accountID int64
	expiresOn time.Time // set exactly for bookLot
	points    int64
	contra    string // the system book on the other side, or "" (balanced by the transaction's other lines)
	detail    string // overrides the transaction's detail for this line (each side of a gift names the other)
}

// post moves points between the system book contra and an account's lot (expiresOn set) or debt
// (expiresOn zero): positive points go into the account's book. Zero points write nothing.
func (j *journalTx) post(contra string, accountID int64, expiresOn time.Time, points int64) {
	if points != 0 {
		j.lines = append(j.lines, journalLine{book: accountBook(expiresOn), accountID: accountID, expiresOn: expiresOn,
			points: points, contra: contra})
	}
}

// postLots posts each lot, with sign applied, against contra.
func (j *journalTx) postLots(contra string, accountID int64, lots []Lot, sign int64) {
	for _, l := range lots {
		j.post(contra, accountID, l.ExpiresOn, sign*l.Points)
	}
}

// moveLots adds one line per lot, with sign applied and no contra: the transaction's other lines
// balance them. A non-empty detail overrides the transaction's.
func (j *journalTx) moveLots(accountID int64, lots []Lot, sign int64, detail string) {
	for _, l := range lots {
		if l.Points != 0 {
			j.lines = append(j.lines, journalLine{book: bookLot, accountID: accountID, expiresOn: l.ExpiresOn,
				points: sign * l.Points, detail: detail})
		}
	}
}

// carriedByEvent says whether the transaction is the line an accrual's billing event carries itself
// (billing_events.journal_line; see the view journal): exactly one line, issuance into a lot, with the
// event's category as detail and its time. The caller writes the event instead of the line.
func (j *journalTx) carriedByEvent() bool {
	return j.kind == "accrual" && len(j.lines) == 1 && j.lines[0].book == bookLot && j.lines[0].contra == bookIssuance &&
		j.lines[0].detail == "" && j.lines[0].points > 0
}

func accountBook(expiresOn time.Time) string {
	if expiresOn.IsZero() {
		return bookDebt
	}
	return bookLot
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
				INSERT INTO journal_lines (tx_id, kind, at, book, account_id, expires_on, points, contra, detail)
				SELECT id.v, t.* FROM id, unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[], $5::date[],
				       $6::bigint[], $7::text[], $8::text[]) AS t)
		SELECT v FROM id`,
		rows.kinds, rows.ats, rows.books, rows.accounts, rows.dates, rows.points, rows.contras, rows.details).QueryRow(func(row pgx.Row) error {
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
	if len(rows.points) == 0 {
		return nil
	}
	b.Queue(`
		INSERT INTO journal_lines (tx_id, kind, at, book, account_id, expires_on, points, contra, detail)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::date[],
		       $7::bigint[], $8::text[], $9::text[])`,
		rows.ids, rows.kinds, rows.ats, rows.books, rows.accounts, rows.dates, rows.points, rows.contras, rows.details)
	return nil
}

// journalRows are journal lines as column arrays, for one unnest insert.
type journalRows struct {
	ids          []*int64
	accounts     []int64
	kinds, books []string
	contras      []*string
	details      []string
	dates        []*time.Time
	points       []int64
	ats          []time.Time
}

// add appends j's lines under transaction id txID (nil when the statement numbers them).
func (r *journalRows) add(j *journalTx, txID *int64) error {
	return j.checkedLines(func(l *journalLine) {
		var contra *string
		if l.contra != "" {
			contra = &l.contra
		}
		var d *time.Time
		if l.book == bookLot {
			d = &l.expiresOn
		}
		r.ids, r.accounts, r.dates, r.contras = append(r.ids, txID), append(r.accounts, l.accountID), append(r.dates, d), append(r.contras, contra)
		r.kinds, r.books, r.details = append(r.kinds, j.kind), append(r.books, l.book), append(r.details, cmp.Or(l.detail, j.detail))
		r.points, r.ats = append(r.points, l.points), append(r.ats, j.at)
	})
}

// checkedLines passes each of j's lines to emit, and refuses a line that is not what journalTx
// describes, or lines without a contra that do not sum to zero: either would be a bug in the caller,
// not a user error. Every journal write passes through here.
func (j *journalTx) checkedLines(emit func(*journalLine)) error {
	var sum int64
	for i := range j.lines {
		l := &j.lines[i]
		if err := l.check(); err != nil {
			return fmt.Errorf("journal: %s transaction: %w", j.kind, err)
		}
		if l.contra == "" {
			sum += l.points
		}
		emit(l)
	}
	if sum != 0 {
		return fmt.Errorf("journal: %s transaction does not balance (%d)", j.kind, sum)
	}
	return nil
}

// check refuses a line that names a book other than the constants allow.
func (l *journalLine) check() error {
	switch {
	case l.accountID <= 0:
		return fmt.Errorf("line without an account")
	case l.book != bookLot && l.book != bookDebt, (l.book == bookLot) == l.expiresOn.IsZero():
		return fmt.Errorf("line on book %q (expires %v) is neither a lot nor a debt", l.book, l.expiresOn)
	}
	switch l.contra {
	case "", bookIssuance, bookRedemption, bookExpiry, bookAdjustment:
		return nil
	}
	return fmt.Errorf("contra %q is not a system book", l.contra)
}
