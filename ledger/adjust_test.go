package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"bonusbot/ledger"
)

func TestAdjust(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{MaxAdjust: 500})
	now := f.clock.Now()
	acct := f.accrue(t, "late", "+79160000001", 50000, now).AccountID  // 100, expires 2027-03-14
	f.accrue(t, "early", "+79160000001", 50000, now.AddDate(0, -3, 0)) // 100, expires 2026-12-14
	tests := []struct {
		name    string
		points  int64
		reason  string
		want    error
		balance int64
		lots    []ledger.Lot
	}{
		{"zero", 0, "x", ledger.ErrAdjustAmount, 200, nil},
		{"over the limit", 501, "x", ledger.ErrAdjustAmount, 200, nil},
		{"under the limit", -501, "x", ledger.ErrAdjustAmount, 200, nil},
		{"no reason", 10, "  ", ledger.ErrNoReason, 200, nil},
		{"below zero", -201, "x", ledger.ErrInsufficientPoints, 200, nil},
		{"debit takes the soonest lot first", -150, "double accrual", nil, 50,
			[]ledger.Lot{{ExpiresOn: date(2027, 3, 14), Points: 50}}},
		{"credit is a lot expiring like an accrual today", 500, "compensation", nil, 550,
			[]ledger.Lot{{ExpiresOn: date(2027, 3, 14), Points: 550}}},
		{"down to exactly zero", -500, "fraud", nil, 50, []ledger.Lot{{ExpiresOn: date(2027, 3, 14), Points: 50}}},
		{"exactly zero", -50, "fraud", nil, 0, nil},
	}
	for _, tt := range tests {
		_, err := f.store.Adjust(ctx, ledger.AdjustRequest{AccountID: acct, Points: tt.points, AgentID: 77, Reason: tt.reason})
		if !errors.Is(err, tt.want) {
			t.Fatalf("%s: Adjust(%+d) = %v, want %v", tt.name, tt.points, err, tt.want)
		}
		if got := f.balance(t, acct); got != tt.balance {
			t.Errorf("%s: balance = %d, want %d", tt.name, got, tt.balance)
		}
		if tt.lots != nil {
			if got := f.lots(t, acct); fmt.Sprint(got) != fmt.Sprint(tt.lots) {
				t.Errorf("%s: lots = %v, want %v", tt.name, got, tt.lots)
			}
		}
	}
	if _, err := f.store.Adjust(ctx, ledger.AdjustRequest{AccountID: 999, Points: 1, AgentID: 77, Reason: "x"}); !errors.Is(err, ledger.ErrUnknownAccount) {
		t.Errorf("Adjust(unknown account) = %v, want ErrUnknownAccount", err)
	}
	hist, err := f.store.History(ctx, acct, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var adjustments []string
	for _, op := range hist {
		if op.Kind == "adjustment" {
			adjustments = append(adjustments, fmt.Sprintf("%+d %s", op.Points, op.Detail))
		}
	}
	want := "[-50 agent 77: fraud -500 agent 77: fraud +500 agent 77: compensation -150 agent 77: double accrual]"
	if got := fmt.Sprint(adjustments); got != want {
		t.Errorf("adjustments in history = %s, want %s", got, want)
	}
	var actions, journalAgentLines int
	if err := f.store.Pool().QueryRow(ctx, `SELECT count(*) FROM support_actions WHERE action = 'adjust' AND agent_id = 77
		AND tx_id IN (SELECT tx_id FROM journal_entries WHERE kind = 'adjustment' AND book = 'adjustment')`).Scan(&actions); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Pool().QueryRow(ctx, `SELECT count(*) FROM journal_entries WHERE kind = 'adjustment' AND detail LIKE 'agent 77: %'`).Scan(&journalAgentLines); err != nil {
		t.Fatal(err)
	}
	if actions != 4 || journalAgentLines < 8 {
		t.Errorf("recorded adjustments = %d actions, %d journal entries naming the agent; want 4 and at least 8", actions, journalAgentLines)
	}
}

func TestAdjustBlockedAccount(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 50000, f.clock.Now()).AccountID
	if err := f.store.SupportBlock(ctx, ledger.BlockRequest{AccountID: acct, AgentID: 5, Blocked: true}); !errors.Is(err, ledger.ErrNoReason) {
		t.Fatalf("SupportBlock without a reason = %v, want ErrNoReason", err)
	}
	if err := f.store.SupportBlock(ctx, ledger.BlockRequest{AccountID: acct, AgentID: 5, Blocked: true, Reason: "fraud check"}); err != nil {
		t.Fatal(err)
	}
	a, err := f.store.Adjust(ctx, ledger.AdjustRequest{AccountID: acct, Points: -40, AgentID: 5, Reason: "clawback"})
	if err != nil || a.Balance != 60 {
		t.Fatalf("Adjust on a blocked account = %+v, %v; want balance 60", a, err)
	}
	if err := f.store.SupportBlock(ctx, ledger.BlockRequest{AccountID: acct, AgentID: 6, Blocked: false}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SupportBlock(ctx, ledger.BlockRequest{AccountID: 999, AgentID: 6, Blocked: false}); !errors.Is(err, ledger.ErrUnknownAccount) {
		t.Errorf("SupportBlock(unknown) = %v, want ErrUnknownAccount", err)
	}
	var log []string
	rows, err := f.store.Pool().Query(ctx, `SELECT action || ' ' || agent_id || ' ' || reason FROM support_actions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		log = append(log, strings.TrimSpace(s))
	}
	if got, want := fmt.Sprint(log), "[block 5 fraud check adjust 5 clawback unblock 6]"; got != want {
		t.Errorf("support actions = %s, want %s", got, want)
	}
}

// TestAdjustConcurrent: agents debiting one account at once never take it below zero.
func TestAdjustConcurrent(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	acct := f.accrue(t, "a", "+79160000001", 50000, now).AccountID // 100
	f.accrue(t, "b", "+79160000001", 50000, now.AddDate(0, -6, 0)) // 100, sooner
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			points := int64(-30)
			if i%4 == 0 {
				points = 10 // credits race the debits too
			}
			_, err := f.store.Adjust(ctx, ledger.AdjustRequest{AccountID: acct, Points: points, AgentID: int64(i), Reason: "race"})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ledger.ErrInsufficientPoints):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 4 credits of 10 always apply (240 in all); 12 debits of 30 fit 8 times at most.
	got := f.balance(t, acct)
	debits := ok.Load() - 4
	if got != 240-30*debits || got < 0 || debits > 8 || debits < 6 || refused.Load() != 12-debits {
		t.Errorf("balance %d after %d debits and %d refusals", got, debits, refused.Load())
	}
}
