package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

var ctx = context.Background()

func ptr(n int64) *int64 { return &n }

// at is a Moscow wall-clock time.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, ledgertest.Moscow)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

type fixture struct {
	store *ledger.Store
	clock *ledgertest.Clock
}

func setup(t *testing.T, opts ledger.Options) fixture {
	t.Helper()
	clock := ledgertest.NewClock(at(2026, 3, 14, 12, 0))
	store := ledgertest.NewStore(t, clock, opts)
	t.Cleanup(func() { ledgertest.CheckInvariants(t, store.Pool()) })
	return fixture{store, clock}
}

func (f fixture) accrue(t *testing.T, id, phone string, kopecks int64, when time.Time) ledger.AccrualResult {
	t.Helper()
	r, err := f.store.Accrue(ctx, ledger.Event{ID: id, Phone: phone, Category: "mobile", Amount: ptr(kopecks), OccurredAt: when})
	if err != nil {
		t.Fatalf("Accrue(%s) = %v", id, err)
	}
	return r
}

func (f fixture) balance(t *testing.T, accountID int64) int64 {
	t.Helper()
	b, err := f.store.Balance(ctx, accountID)
	if err != nil {
		t.Fatalf("Balance(%d) = %v", accountID, err)
	}
	return b.Points
}

func (f fixture) lots(t *testing.T, accountID int64) []ledger.Lot {
	t.Helper()
	lots, err := f.store.Lots(ctx, accountID)
	if err != nil {
		t.Fatalf("Lots(%d) = %v", accountID, err)
	}
	return lots
}

func TestAccrueEarnRules(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	tests := []struct {
		category string
		amount   *int64
		points   *int64
		want     int64
	}{
		{"mobile", ptr(50000), nil, 100},     // 500 ₽ at 5 ₽ a point
		{"mobile", ptr(499), nil, 0},         // 4.99 ₽ earns nothing: floor
		{"home_internet", ptr(1000), nil, 2}, // 10 ₽
		{"tv", ptr(999), nil, 1},             // 9.99 ₽
		{"bank_card", ptr(5999), nil, 1},     // 59.99 ₽ at 30 ₽ a point
		{"salon", ptr(3000), nil, 10},        // 30 ₽ → 10 points
		{"referral", nil, nil, 50},           // fixed by the rule
		{"referral", nil, ptr(70), 70},       // fixed by the event
	}
	var total int64
	for i, tt := range tests {
		r, err := f.store.Accrue(ctx, ledger.Event{ID: "e" + string(rune('a'+i)), Phone: "+79161234567",
			Category: tt.category, Amount: tt.amount, Points: tt.points, OccurredAt: now})
		if err != nil {
			t.Fatalf("Accrue(%s) = %v", tt.category, err)
		}
		if r.Points != tt.want {
			t.Errorf("Accrue(%s, %v, %v).Points = %d, want %d", tt.category, tt.amount, tt.points, r.Points, tt.want)
		}
		total += tt.want
	}
	acct, err := f.store.AccountByPhone(ctx, "8 (916) 123-45-67")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, acct.ID); got != total {
		t.Errorf("balance = %d, want %d", got, total)
	}
}

func TestAccrueRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	tests := []struct {
		name string
		ev   ledger.Event
		want error
	}{
		{"no id", ledger.Event{Phone: "+79161234567", Category: "mobile", Amount: ptr(100), OccurredAt: now}, ledger.ErrInvalidEvent},
		{"bad phone", ledger.Event{ID: "a", Phone: "12", Category: "mobile", Amount: ptr(100), OccurredAt: now}, ledger.ErrInvalidPhone},
		{"unknown category", ledger.Event{ID: "b", Phone: "+79161234567", Category: "casino", Amount: ptr(100), OccurredAt: now}, ledger.ErrUnknownCategory},
		{"negative amount", ledger.Event{ID: "c", Phone: "+79161234567", Category: "mobile", Amount: ptr(-100), OccurredAt: now}, ledger.ErrInvalidAmount},
		{"amount and points", ledger.Event{ID: "d", Phone: "+79161234567", Category: "mobile", Amount: ptr(100), Points: ptr(5), OccurredAt: now}, ledger.ErrInvalidEvent},
		{"no amount", ledger.Event{ID: "e", Phone: "+79161234567", Category: "mobile", OccurredAt: now}, ledger.ErrInvalidEvent},
		{"future", ledger.Event{ID: "f", Phone: "+79161234567", Category: "mobile", Amount: ptr(100), OccurredAt: now.Add(2 * time.Hour)}, ledger.ErrInvalidEvent},
		{"no time", ledger.Event{ID: "g", Phone: "+79161234567", Category: "mobile", Amount: ptr(100)}, ledger.ErrInvalidEvent},
		{"reverse unknown", ledger.Event{ID: "h", Reverses: "nope", OccurredAt: now}, ledger.ErrUnknownEvent},
	}
	for _, tt := range tests {
		if _, err := f.store.Accrue(ctx, tt.ev); !errors.Is(err, tt.want) {
			t.Errorf("%s: Accrue = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := f.store.AccountByPhone(ctx, "+79161234567"); !errors.Is(err, ledger.ErrUnknownPhone) {
		t.Errorf("a refused event enrolled its phone: AccountByPhone = %v", err)
	}
}

func TestAccrueIsIdempotent(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	first := f.accrue(t, "bill-1", "+79161234567", 50000, now)
	again := f.accrue(t, "bill-1", "89161234567", 50000, now) // same number, other spelling
	if !again.Duplicate || again.Points != 100 || again.AccountID != first.AccountID {
		t.Errorf("replay = %+v, want duplicate of %+v", again, first)
	}
	_, err := f.store.Accrue(ctx, ledger.Event{ID: "bill-1", Phone: "+79161234567", Category: "mobile", Amount: ptr(60000), OccurredAt: now})
	if !errors.Is(err, ledger.ErrEventConflict) {
		t.Errorf("same id, other amount: Accrue = %v, want ErrEventConflict", err)
	}
	if got := f.balance(t, first.AccountID); got != 100 {
		t.Errorf("balance = %d, want 100", got)
	}
}

// TestReplayWithNanoseconds: billing_events keeps occurred_at to the microsecond, as Postgres does, so
// an event stamped to the nanosecond must still be a duplicate when it is replayed, on every path
// (one event, a batch, a bulk chunk), never a conflict: billing takes a conflict as final.
func TestReplayWithNanoseconds(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	when := f.clock.Now().Add(-time.Hour + 123456789*time.Nanosecond)
	events := []ledger.Event{
		{ID: "one", Phone: "+79161234567", Category: "mobile", Amount: ptr(500_00), OccurredAt: when},
		{ID: "rev", Reverses: "one", OccurredAt: when.Add(time.Nanosecond)},
	}
	bulk := make([]ledger.Event, 250) // over the chunk size that travels as COPY
	for i := range bulk {
		bulk[i] = ledger.Event{ID: fmt.Sprint("bulk-", i), Phone: "+79161234568", Category: "mobile", Amount: ptr(5_00),
			OccurredAt: when.Add(time.Duration(i) * time.Nanosecond)}
	}
	for _, ev := range events {
		if _, err := f.store.Accrue(ctx, ev); err != nil {
			t.Fatalf("Accrue(%s) = %v", ev.ID, err)
		}
	}
	if _, errs, err := f.store.AccrueBatch(ctx, bulk); err != nil || errors.Join(errs...) != nil {
		t.Fatalf("AccrueBatch(bulk) = %v, %v", errs, err)
	}
	for _, ev := range events {
		if r, err := f.store.Accrue(ctx, ev); err != nil || !r.Duplicate {
			t.Errorf("replayed Accrue(%s) = %+v, %v; want a duplicate", ev.ID, r, err)
		}
	}
	results, errs, err := f.store.AccrueBatch(ctx, append(events, bulk...))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if errs[i] != nil || !r.Duplicate {
			t.Errorf("replayed in a batch: event %d = %+v, %v; want a duplicate", i, r, errs[i])
		}
	}
}

func TestAccrueConcurrentReplays(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	const n = 8
	results := make(chan ledger.AccrualResult, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			r, err := f.store.Accrue(ctx, ledger.Event{ID: "same", Phone: "+79161234567", Category: "mobile", Amount: ptr(50000), OccurredAt: now})
			results <- r
			errs <- err
		}()
	}
	fresh := 0
	var acct int64
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent replay: %v", err)
		}
		r := <-results
		if !r.Duplicate {
			fresh++
		}
		acct = r.AccountID
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent replays applied, want 1", fresh, n)
	}
	if got := f.balance(t, acct); got != 100 {
		t.Errorf("balance = %d, want 100", got)
	}
}

func TestAccrualExpiryDates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy ledger.ExpiryPolicy
		when   time.Time
		want   time.Time
	}{
		{"12 months", ledger.ExpiryRolling12m, at(2026, 3, 14, 12, 0), date(2027, 3, 14)},
		// 22:30 UTC on 31 Jan is already 1 Feb in Moscow.
		{"Moscow date, not UTC", ledger.ExpiryRolling12m, time.Date(2026, 1, 31, 22, 30, 0, 0, time.UTC), date(2027, 2, 1)},
		{"leap day clamps", ledger.ExpiryRolling12m, at(2028, 2, 29, 10, 0), date(2029, 2, 28)},
		{"calendar year", ledger.ExpiryCalendarYear, at(2026, 3, 14, 12, 0), date(2026, 12, 31)},
		{"calendar year, Moscow new year", ledger.ExpiryCalendarYear, time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC), date(2027, 12, 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := ledger.NewStore(nil, ledger.Options{Location: ledgertest.Moscow, Expiry: tt.policy})
			if got := s.ExpiryFor(tt.when); !got.Equal(tt.want) {
				t.Errorf("ExpiryFor(%v) = %v, want %v", tt.when, got, tt.want)
			}
		})
	}
}

func TestReversalWithDebt(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	r1 := f.accrue(t, "bill-1", "+79161234567", 50000, now.AddDate(0, -2, 0)) // 100 points, lot A
	f.accrue(t, "bill-2", "+79161234567", 25000, now.AddDate(0, -1, 0))       // 50 points, lot B
	acct := r1.AccountID
	// Spend 120: all of lot A (soonest) and 20 of lot B, leaving 30.
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "x"}); !errors.Is(err, ledger.ErrUnknownItem) {
		t.Fatalf("Redeem unknown item = %v", err)
	}
	stock := int64(5)
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "120", Category: "sms", TitleRU: "т", TitleEN: "t", Cost: 120, Stock: &stock, Active: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "120"}); err != nil {
		t.Fatal(err)
	}
	// Reversing bill-1 claws back 100: 30 from what is left, 70 as debt.
	rev, err := f.store.Accrue(ctx, ledger.Event{ID: "refund-1", Reverses: "bill-1", OccurredAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Points != 100 || rev.Debt != 70 {
		t.Errorf("reversal = %+v, want 100 clawed back with 70 debt", rev)
	}
	if b, _ := f.store.Balance(ctx, acct); b.Points != 0 || b.Debt != 70 {
		t.Errorf("after reversal: %+v, want 0 points and 70 debt", b)
	}
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "refund-2", Reverses: "bill-1", OccurredAt: now}); !errors.Is(err, ledger.ErrAlreadyReversed) {
		t.Errorf("second reversal = %v, want ErrAlreadyReversed", err)
	}
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "refund-3", Reverses: "refund-1", OccurredAt: now}); !errors.Is(err, ledger.ErrInvalidEvent) {
		t.Errorf("reversal of a reversal = %v, want ErrInvalidEvent", err)
	}
	// The next 100 points pay the 70 debt first; 30 reach a lot.
	f.accrue(t, "bill-3", "+79161234567", 50000, now)
	if b, _ := f.store.Balance(ctx, acct); b.Points != 30 || b.Debt != 0 {
		t.Errorf("after paying debt: %+v, want 30 points and no debt", b)
	}
}

func TestReversalTakesItsOwnLotFirst(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	now := f.clock.Now()
	f.accrue(t, "old", "+79161234567", 50000, now.AddDate(0, -6, 0)) // 100, expires in 6 months
	r := f.accrue(t, "new", "+79161234567", 25000, now)              // 50, expires in 12 months
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "rev", Reverses: "new", OccurredAt: now}); err != nil {
		t.Fatal(err)
	}
	want := []ledger.Lot{{ExpiresOn: date(2026, 9, 14), Points: 100}}
	if got := f.lots(t, r.AccountID); len(got) != 1 || got[0] != want[0] {
		t.Errorf("lots = %v, want %v", got, want)
	}
}

func TestBlockedAccountEarnsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	r := f.accrue(t, "a", "+79161234567", 50000, f.clock.Now())
	if err := f.store.SetBlocked(ctx, r.AccountID, true); err != nil {
		t.Fatal(err)
	}
	_, err := f.store.Accrue(ctx, ledger.Event{ID: "b", Phone: "+79161234567", Category: "mobile", Amount: ptr(50000), OccurredAt: f.clock.Now()})
	if !errors.Is(err, ledger.ErrAccountBlocked) {
		t.Errorf("accrual to blocked account = %v, want ErrAccountBlocked", err)
	}
}

func TestHistoryDatesAccrualsByTheirEvent(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	earned := at(2026, 1, 10, 9, 30)
	acct := f.accrue(t, "jan", "+79160000001", 50000, earned).AccountID
	hist, err := f.store.History(ctx, acct, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Kind != "accrual" || !hist[0].At.Equal(earned) || hist[0].Detail != "mobile" || hist[0].Points != 100 {
		t.Errorf("history = %+v, want one accrual of 100 dated %v", hist, earned)
	}
}
