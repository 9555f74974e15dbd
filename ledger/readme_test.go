package ledger_test

import (
	"os"
	"strings"
	"testing"

	"bonusbot/ledger"
)

// TestRunbookChecksTheBooks: README's restore runbook gives operators SQL that must return no rows on
// a healthy ledger. It runs here, as README spells it, on a ledger that has seen every kind of journal
// transaction: accruals (carried by their billing events, and ones that paid debt), a reversal into
// debt, a redeem, a gift and a sweep.
func TestRunbookChecksTheBooks(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	alice := f.accrue(t, "a1", "+79160000001", 5000_00, now.AddDate(0, -11, -20)).AccountID // 1,000, usable through 2026-03-25
	f.accrue(t, "b1", "+79160000002", 500_00, now)
	addItem(t, f, "300", 300, nil)
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: alice, Code: "300"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "a1-rev", Reverses: "a1", OccurredAt: now}); err != nil {
		t.Fatal(err) // takes 700, leaves 300 of debt
	}
	f.accrue(t, "a2", "+79160000001", 2000_00, now) // 400: pays the debt, 100 into a lot
	if _, err := f.store.Gift(ctx, ledger.GiftRequest{From: alice, To: "+79160000002", Points: 50}); err != nil {
		t.Fatal(err)
	}
	f.accrue(t, "b2", "+79160000002", 500_00, now.AddDate(0, -11, -20))
	f.clock.Set(now.AddDate(0, 0, 12))
	if r, err := f.store.Expire(ctx, f.clock.Now(), 0); err != nil || r.Points != 100 {
		t.Fatalf("Expire = %+v, %v; want b2's 100 burnt", r, err)
	}
	queries := runbookQueries(t)
	if len(queries) < 3 {
		t.Fatalf("README's runbook has %d check queries, want the three of its step 3", len(queries))
	}
	for _, q := range queries {
		rows, err := f.store.Pool().Query(ctx, q)
		if err != nil {
			t.Fatalf("runbook query %q: %v", q, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("runbook query %q: %v", q, err)
		}
		if n != 0 {
			t.Errorf("runbook query returns %d rows on a healthy ledger, want none: %s", n, q)
		}
	}
}

// runbookQueries are the statements of the SQL block in README's "Check the books" step.
func runbookQueries(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, step, ok := strings.Cut(string(readme), "Check the books.")
	_, block, ok2 := strings.Cut(step, "```sql\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal(`README.md has no SQL block under "Check the books."`)
	}
	var queries []string
	for _, stmt := range strings.Split(block, ";") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			queries = append(queries, strings.Join(lines, " "))
		}
	}
	return queries
}
