package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/ledger"
	"bonusbot/ledger/csvrows"
	"bonusbot/ledger/ledgertest"
)

// importCSV exercises every path of ImportAccruals; the comment at the end of a line says what Accrue
// does with it. Line 1 is the header.
const importCSV = `id,phone,category,amount,points,occurred_at
e1,+79161111111,mobile,500.00,,2026-03-01T10:00:00Z
e2,8 916 111-11-11,bank_card,3000.00,,2026-03-02T10:00:00Z
e3,+79162222222,referral,,,2026-03-03T10:00:00Z
e4,+79162222222,salon,10.00,,2026-03-03T11:00:00Z
e5,+79163333333,mobile,3.00,,2026-03-03T12:00:00Z
e1,+79161111111,mobile,500.00,,2026-03-01T10:00:00Z
e1,+79161111111,mobile,600.00,,2026-03-01T10:00:00Z
pre-1,+79161111111,tv,500.00,,2026-01-05T10:00:00Z
pre-1,+79161111111,tv,200.00,,2026-01-05T10:00:00Z
bad-phone,12345,mobile,1.00,,2026-03-01T10:00:00Z
bad-cat,+79161111111,casino,1.00,,2026-03-01T10:00:00Z
fixed,+79161111111,referral,100.00,,2026-03-01T10:00:00Z
no-amount,+79161111111,mobile,,,2026-03-01T10:00:00Z
both,+79161111111,mobile,1.00,5,2026-03-01T10:00:00Z
future,+79161111111,mobile,1.00,,2026-03-15T10:00:00Z
blocked,+79160000099,mobile,100.00,,2026-03-01T10:00:00Z
debt-1,+79160000098,mobile,250.00,,2026-03-01T10:00:00Z
debt-2,+79160000098,mobile,1000.00,,2026-03-02T10:00:00Z
leap,+79164444444,mobile,100.00,,2024-02-29T10:00:00+03:00
midnight,+79164444444,mobile,100.00,,2026-02-28T21:30:00Z
fixed-pts,+79164444444,mobile,,75,2026-03-01T10:00:00Z
short,+79164444444,mobile
,+79164444444,mobile,1.00,,2026-03-01T10:00:00Z
e7,+7916,mobile,1.00,,2026-03-01T10:00:00Z
e7,+79165555555,mobile,1.00,,2026-03-01T10:00:00Z
bad-amount,+79165555555,mobile,1.005,,2026-03-01T10:00:00Z
bad-time,+79165555555,mobile,1.00,,1 March 2026
bad-points,+79165555555,mobile,,1.5,2026-03-01T10:00:00Z
expired,+79165555555,mobile,100.00,,2025-01-01T10:00:00Z
expired-pts,+79165555555,mobile,,5,2025-01-01T10:00:00Z
was-live,+79160000097,mobile,500.00,,2025-03-13T12:00:00+03:00
was-live,+79160000097,mobile,600.00,,2025-03-13T12:00:00+03:00
cap,+79165555555,mobile,5000000.00,,2026-03-01T10:00:00Z
cap-over,+79165555555,salon,3000003.00,,2026-03-01T10:00:00Z
cap-amount,+79165555555,mobile,10000000.01,,2026-03-01T10:00:00Z
cap-points,+79165555555,mobile,,1000001,2026-03-01T10:00:00Z
nul` + "\x00" + `,+79165555555,mobile,1.00,,2026-03-01T10:00:00Z
bad-utf8,+79165555555,mob` + "\xff" + `ile,1.00,,2026-03-01T10:00:00Z
`

var importNow = time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow)

// importFixture is a store with a blocked account, an account in debt (100 points, spent before its
// accrual was reversed), a stored event pre-1, and a stored event was-live whose lot has expired since.
func importFixture(t *testing.T, expiry ledger.ExpiryPolicy) *ledger.Store {
	t.Helper()
	ctx := context.Background()
	clock := ledgertest.NewClock(importNow.AddDate(-1, 0, 0))
	store := ledgertest.NewStore(t, clock, ledger.Options{Expiry: expiry})
	amount := int64(50000)
	if _, err := store.Accrue(ctx, ledger.Event{ID: "was-live", Phone: "+79160000097", Category: "mobile", Amount: &amount,
		OccurredAt: importNow.AddDate(-1, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	clock.Set(importNow)
	blocked, err := store.Enrol(ctx, "+79160000099", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetBlocked(ctx, blocked.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertItems(ctx, []ledger.Item{{Code: "100", Category: "sms", TitleRU: "т", TitleEN: "t", Cost: 100, Active: true}}); err != nil {
		t.Fatal(err)
	}
	old, err := store.Accrue(ctx, ledger.Event{ID: "old-1", Phone: "+79160000098", Category: "mobile", Amount: &amount, OccurredAt: importNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Redeem(ctx, ledger.RedeemRequest{AccountID: old.AccountID, Code: "100"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []ledger.Event{
		{ID: "old-1-rev", Reverses: "old-1", OccurredAt: importNow},
		{ID: "pre-1", Phone: "+79161111111", Category: "tv", Amount: &amount, OccurredAt: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)},
	} {
		if _, err := store.Accrue(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// accrueCSV feeds the file to Accrue row by row, as the reference for ImportAccruals.
func accrueCSV(t ledgertest.TB, store *ledger.Store, csv string) ledger.ImportSummary {
	t.Helper()
	rd, err := csvrows.NewReader(strings.NewReader(csv), ledger.AccrualColumns...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var sum ledger.ImportSummary
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return sum
		}
		sum.Rows++
		var le *csvrows.LineError
		if errors.As(err, &le) {
			sum.Rejected = append(sum.Rejected, ledger.ImportError{Line: le.Line, Err: ledger.ErrInvalidEvent})
			continue
		}
		ev, err := eventOf(row)
		if err == nil {
			var res ledger.AccrualResult
			res, err = store.Accrue(context.Background(), ev)
			switch {
			case err == nil && res.Duplicate:
				sum.Duplicates++
			case err == nil:
				sum.Accepted++
				sum.Points += res.Points
			}
		}
		if err != nil {
			sum.Rejected = append(sum.Rejected, ledger.ImportError{Line: row.Line, ID: row.Get("id"), Err: err})
		}
	}
}

func eventOf(row csvrows.Row) (ledger.Event, error) {
	ev := ledger.Event{ID: row.Get("id"), Phone: row.Get("phone"), Category: row.Get("category")}
	var err error
	if ev.OccurredAt, err = time.Parse(time.RFC3339, row.Get("occurred_at")); err != nil {
		return ev, ledger.ErrInvalidEvent
	}
	if a := row.Get("amount"); a != "" {
		kop, err := ledger.ParseAmount(a)
		if err != nil {
			return ev, err
		}
		ev.Amount = &kop
	}
	if p := row.Get("points"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return ev, ledger.ErrInvalidEvent
		}
		ev.Points = &n
	}
	return ev, nil
}

var importRefusals = []error{ledger.ErrInvalidEvent, ledger.ErrInvalidPhone, ledger.ErrInvalidAmount,
	ledger.ErrUnknownCategory, ledger.ErrEventConflict, ledger.ErrAccountBlocked, ledger.ErrExpiredEvent}

// outcome renders a summary comparably: counts, then each rejected line with its refusal.
func outcome(sum ledger.ImportSummary) string {
	parts := []string{fmt.Sprintf("rows=%d accepted=%d duplicates=%d points=%d", sum.Rows, sum.Accepted, sum.Duplicates, sum.Points)}
	for _, r := range sum.Rejected {
		kind := "fault: " + r.Err.Error()
		for _, ref := range importRefusals {
			if errors.Is(r.Err, ref) {
				kind = ref.Error()
				break
			}
		}
		parts = append(parts, fmt.Sprintf("line %d: %s", r.Line, kind))
	}
	return strings.Join(parts, "\n")
}

// dump renders what the ledger holds with accounts named by their first phone and journal transactions
// by their event or their content, so two stores that made the same accounts and transactions in
// another order compare equal.
func dump(t ledgertest.TB, pool *pgxpool.Pool) string {
	t.Helper()
	return dumpLedger(t, pool, `(SELECT id FROM accounts)`, `true`)
}

// dumpLedger renders as dump does the accounts in the SQL set accounts (their lots and journal) and
// the billing events that match the condition events on e; args are the queries' parameters.
func dumpLedger(t ledgertest.TB, pool *pgxpool.Pool, accounts, events string, args ...any) string {
	t.Helper()
	queries := []string{
		`SELECT 'account ' || min(p.phone) || ' blocked=' || a.blocked || ' debt=' || a.debt
		 FROM accounts a JOIN phones p ON p.account_id = a.id WHERE a.id IN ` + accounts + ` GROUP BY a.id`,
		`SELECT 'lot ' || (SELECT min(phone) FROM phones WHERE account_id = l.account_id) || ' ' || l.expires_on || ' ' || l.points
		 FROM lots l WHERE l.account_id IN ` + accounts,
		`SELECT 'event ' || e.id || ' ' || coalesce(e.phone, '-') || ' ' || coalesce(e.category, '-') || ' ' ||
		        coalesce(e.amount_kopecks::text, '-') || ' ' || coalesce(e.points::text, '-') || ' ' || coalesce(e.reverses, '-') || ' ' ||
		        e.occurred_at || ' ' || coalesce((SELECT min(phone) FROM phones WHERE account_id = e.account_id), '-') || ' ' ||
		        e.awarded || ' ' || coalesce(e.expires_on::text, '-') || ' at ' || e.received_at
		 FROM billing_events e WHERE ` + events,
		`SELECT 'entry ' || coalesce(e.id, 'of no event') || ' ' || j.kind || ' ' || j.book || ' ' ||
		        coalesce((SELECT min(phone) FROM phones WHERE account_id = j.account_id), '-') || ' ' ||
		        coalesce(j.expires_on::text, '-') || ' ' || j.points || ' ' || coalesce(j.contra, '-') || ' ' || j.detail || ' at ' || j.at
		 FROM journal j LEFT JOIN billing_events e ON e.tx_id = j.tx_id WHERE j.account_id IN ` + accounts,
	}
	var lines []string
	for _, q := range queries {
		rows, err := pool.Query(context.Background(), q, args...)
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		lines = append(lines, got...)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestImportMatchesAccrue: ImportAccruals writes exactly what Accrue writes for the same rows, refuses
// the same rows for the same reasons, and a second import of the file changes nothing.
func TestImportMatchesAccrue(t *testing.T) {
	t.Parallel()
	for _, expiry := range []ledger.ExpiryPolicy{ledger.ExpiryRolling12m, ledger.ExpiryCalendarYear} {
		t.Run(string(expiry), func(t *testing.T) {
			t.Parallel()
			ref, imp := importFixture(t, expiry), importFixture(t, expiry)
			want := accrueCSV(t, ref, importCSV)
			var progress []int
			got, err := imp.ImportAccruals(context.Background(), strings.NewReader(importCSV), func(n int) { progress = append(progress, n) })
			if err != nil {
				t.Fatalf("ImportAccruals: %v", err)
			}
			if g, w := outcome(got), outcome(want); g != w {
				t.Errorf("ImportAccruals summary:\n%s\nwant (Accrue):\n%s", g, w)
			}
			if g, w := dump(t, imp.Pool()), dump(t, ref.Pool()); g != w {
				t.Errorf("ImportAccruals wrote:\n%s\n\nAccrue wrote:\n%s", g, w)
			}
			if len(progress) == 0 || progress[len(progress)-1] != got.Rows {
				t.Errorf("progress = %v, want it to end at %d rows", progress, got.Rows)
			}
			if got.Enrolled != 4 {
				t.Errorf("enrolled %d phones, want 4 (…2222, …3333, …4444, …5555)", got.Enrolled)
			}
			ledgertest.CheckInvariants(t, imp.Pool())
			ledgertest.CheckInvariants(t, ref.Pool())

			// AccrueBatch, the ingest API's path, writes the same again.
			bat := importFixture(t, expiry)
			var events []ledger.Event
			rd, err := csvrows.NewReader(strings.NewReader(importCSV), ledger.AccrualColumns...)
			if err != nil {
				t.Fatal(err)
			}
			for {
				row, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					continue // a malformed line reaches neither Accrue nor AccrueBatch
				}
				if ev, err := eventOf(row); err == nil {
					events = append(events, ev)
				}
			}
			if _, _, err := bat.AccrueBatch(context.Background(), events); err != nil {
				t.Fatalf("AccrueBatch: %v", err)
			}
			if g, w := dump(t, bat.Pool()), dump(t, ref.Pool()); g != w {
				t.Errorf("AccrueBatch wrote:\n%s\n\nAccrue wrote:\n%s", g, w)
			}
			ledgertest.CheckInvariants(t, bat.Pool())

			before := dump(t, imp.Pool())
			again, err := imp.ImportAccruals(context.Background(), strings.NewReader(importCSV), nil)
			if err != nil {
				t.Fatalf("second ImportAccruals: %v", err)
			}
			if again.Accepted != 0 || again.Duplicates != got.Accepted+got.Duplicates {
				t.Errorf("second import: %d accepted, %d duplicates; want 0 and %d", again.Accepted, again.Duplicates, got.Accepted+got.Duplicates)
			}
			if after := dump(t, imp.Pool()); after != before {
				t.Errorf("second import changed the ledger:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

// TestImportLineNumbers: each skipped row names its line, in file order, however the file is laid out.
func TestImportLineNumbers(t *testing.T) {
	t.Parallel()
	store := ledgertest.NewStore(t, ledgertest.NewClock(importNow), ledger.Options{})
	csv := "\uFEFFoccurred_at, ID ,phone,category,amount,points\n" +
		"2026-03-01T10:00:00Z,a,+79161111111,mobile,1.00,\n" +
		"\n" +
		"2026-03-01T10:00:00Z,\"b\nmultiline\",+79161111111,nope,1.00,\n" +
		"2026-03-01T10:00:00Z,c,+79161111111,mobile,x,\n" +
		"2026-03-01T10:00:00Z,d,\"+7916\"1,mobile,1.00,\n"
	got, err := store.ImportAccruals(context.Background(), strings.NewReader(csv), nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range got.Rejected {
		lines = append(lines, fmt.Sprintf("%d %s", r.Line, r.ID))
	}
	if g, w := strings.Join(lines, ", "), "4 b\nmultiline, 6 c, 7 "; g != w {
		t.Errorf("rejected lines = %q, want %q", g, w)
	}
	if got.Rows != 4 || got.Accepted != 1 {
		t.Errorf("rows %d, accepted %d; want 4 and 1", got.Rows, got.Accepted)
	}
	if _, err := store.ImportAccruals(context.Background(), strings.NewReader("id,phone\n"), nil); err == nil ||
		!strings.Contains(err.Error(), "missing column") {
		t.Errorf("import without the columns = %v, want a missing-column error", err)
	}
}

// TestImportConcurrent runs two overlapping imports and a stream of Accrue calls on the same ids and
// phones at once: every id applies exactly once and the invariants hold.
func TestImportConcurrent(t *testing.T) {
	t.Parallel()
	store := ledgertest.NewStore(t, ledgertest.NewClock(importNow), ledger.Options{})
	const n = 3000
	file := func(from, to int) string {
		var b strings.Builder
		b.WriteString("id,phone,category,amount,points,occurred_at\n")
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "c-%d,+7916%07d,mobile,10.00,,2026-03-01T10:00:00Z\n", i, i%97)
		}
		return b.String()
	}
	var wg sync.WaitGroup
	sums := make([]ledger.ImportSummary, 2)
	for k, f := range []string{file(0, 2*n/3), file(n/3, n)} {
		wg.Go(func() {
			var err error
			if sums[k], err = store.ImportAccruals(context.Background(), strings.NewReader(f), nil); err != nil {
				t.Errorf("import %d: %v", k, err)
			}
		})
	}
	var accrued, accruedDup int
	wg.Go(func() {
		amount := int64(1000)
		for i := 0; i < n; i += 7 {
			res, err := store.Accrue(context.Background(), ledger.Event{ID: fmt.Sprintf("c-%d", i),
				Phone: fmt.Sprintf("+7916%07d", i%97), Category: "mobile", Amount: &amount, OccurredAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Errorf("Accrue: %v", err)
				return
			}
			if res.Duplicate {
				accruedDup++
			} else {
				accrued++
			}
		}
	})
	wg.Wait()
	if got := sums[0].Accepted + sums[1].Accepted + accrued; got != n {
		t.Errorf("applied %d events (imports %d + %d, Accrue %d), want %d", got, sums[0].Accepted, sums[1].Accepted, accrued, n)
	}
	var events, points int64
	if err := store.Pool().QueryRow(context.Background(), `SELECT count(*), (SELECT sum(points) FROM lots) FROM billing_events`).Scan(&events, &points); err != nil {
		t.Fatal(err)
	}
	if events != n || points != 2*n {
		t.Errorf("%d events and %d points stored, want %d and %d", events, points, n, 2*n)
	}
	ledgertest.CheckInvariants(t, store.Pool())
}
