package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

func TestIsRefusal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{ledger.ErrAlreadyReversed, true},
		{fmt.Errorf("accrue %q: %w", "x", ledger.ErrInvalidEvent), true},
		{&ledger.LimitError{Rule: ledger.ErrGiftDailyLimit}, true},
		{ledger.ErrNotLinked, true},
		{errors.New("invalid event"), false}, // the same words are not the sentinel
		{context.Canceled, false},
		{fmt.Errorf("accrue: %w", errors.New("connection reset")), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := ledger.IsRefusal(tt.err); got != tt.want {
			t.Errorf("IsRefusal(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestAccrueBatchFaultIsTheBatchError: a database fault while a reversal applies is the batch's error,
// never one event's refusal; with the fault gone, the same batch again applies each event once.
func TestAccrueBatchFaultIsTheBatchError(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	when := at(2026, 3, 1, 10, 0)
	for _, id := range []string{"a1", "a2", "a3"} {
		f.accrue(t, id, "+79161234567", 500_00, when)
	}
	batch := []ledger.Event{
		{ID: "a4", Phone: "+79161234567", Category: "mobile", Amount: ptr(500_00), OccurredAt: when},
		{ID: "r1", Reverses: "a1", OccurredAt: when},
		{ID: "r2", Reverses: "a2", OccurredAt: when},
		{ID: "r3", Reverses: "a3", OccurredAt: when},
		{ID: "r9", Reverses: "never-sent", OccurredAt: when}, // a refusal stays that event's own
	}
	heal := ledgertest.FailInserts(t, f.store.Pool(), "billing_events", "id", "r2")
	_, errs, err := f.store.AccrueBatch(ctx, batch)
	if err == nil || ledger.IsRefusal(err) {
		t.Fatalf("AccrueBatch with a fault on r2 = %v (per event %v), want a fault as the batch error", err, errs)
	}
	heal()
	results, errs, err := f.store.AccrueBatch(ctx, batch)
	if err != nil {
		t.Fatalf("AccrueBatch after the fault healed = %v", err)
	}
	var applied, dups []string
	for i, r := range results {
		switch {
		case errs[i] != nil:
		case r.Duplicate:
			dups = append(dups, batch[i].ID)
		default:
			applied = append(applied, batch[i].ID)
		}
	}
	// a4 and r1 committed before the fault; r2 and r3 apply now.
	if fmt.Sprint(dups, applied) != "[a4 r1] [r2 r3]" {
		t.Errorf("resent batch: duplicates %v, applied %v; want [a4 r1] and [r2 r3]", dups, applied)
	}
	if !errors.Is(errs[4], ledger.ErrUnknownEvent) {
		t.Errorf("r9 = %v, want ErrUnknownEvent", errs[4])
	}
	acct, err := f.store.AccountByPhone(ctx, "+79161234567")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, acct.ID); got != 100 {
		t.Errorf("balance = %d, want 100 (a4 alone)", got)
	}
}
