package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"bonusbot/ledger"
	"bonusbot/ledger/ingest"
	"bonusbot/ledger/ledgertest"
)

func TestAccrualsMixedBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	blocked, err := b.store.Enrol(t.Context(), "+79160000099", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.SetBlocked(t.Context(), blocked.ID, true); err != nil {
		t.Fatal(err)
	}
	at := `"occurred_at":"2026-03-01T10:00:00Z"`
	batch := `{"events":[
		{"id":"bill-1","phone":"+79161234567","category":"mobile","amount":"500.00",` + at + `},
		{"id":"ref-7","phone":"8 (916) 123-45-67","category":"referral","points":50,` + at + `},
		{"id":"bill-2","phone":"79161234567","category":"salon","amount":30,` + at + `},
		{"id":"refund-1","reverses":"bill-1",` + at + `},
		{"id":"bill-1","phone":"+79161234567","category":"mobile","amount":"500.00",` + at + `},
		{"id":"bill-1","phone":"+79161234567","category":"mobile","amount":"600.00",` + at + `},
		{"id":"bad-cat","phone":"+79161234567","category":"casino","amount":"1.00",` + at + `},
		{"id":"bad-phone","phone":"12","category":"mobile","amount":"1.00",` + at + `},
		{"id":"bad-amount","phone":"+79161234567","category":"mobile","amount":"1.005",` + at + `},
		{"id":"future","phone":"+79161234567","category":"mobile","amount":"1.00","occurred_at":"2027-01-01T00:00:00Z"},
		{"id":"bad-time","phone":"+79161234567","category":"mobile","amount":"1.00","occurred_at":"yesterday"},
		{"id":"typo","phone":"+79161234567","category":"mobile","ammount":"1.00",` + at + `},
		{"id":"ghost-refund","reverses":"never-sent",` + at + `},
		{"id":"blocked","phone":"+79160000099","category":"mobile","amount":"100.00",` + at + `},
		{"id":"new-member","phone":"+79035550000","category":"tv","amount":"999.99",` + at + `},
		"not an object"
	]}`
	got := b.accrue(t, batch)
	wantRejected := map[string]string{
		"bill-1":       "event_conflict",
		"bad-cat":      "unknown_category",
		"bad-phone":    "invalid_phone",
		"bad-amount":   "invalid_amount",
		"future":       "invalid_event",
		"bad-time":     "invalid_event",
		"typo":         "invalid_event",
		"ghost-refund": "unknown_event",
		"blocked":      "account_blocked",
		"":             "invalid_event",
	}
	if got.Accepted != 5 || got.Duplicates != 1 || len(got.Rejected) != len(wantRejected) {
		t.Errorf("batch = %+v, want 5 accepted, 1 duplicate, %d rejected", got, len(wantRejected))
	}
	for _, r := range got.Rejected {
		if want := wantRejected[r.ID]; r.Error != want || r.Message == "" {
			t.Errorf("rejected %q = %q (%s), want %q with a message", r.ID, r.Error, r.Message, want)
		}
	}
	// bill-1 (100) was reversed in the same batch; ref-7 (50) and bill-2 (10) remain.
	if bal := balanceOf(t, b, "+79161234567"); bal != 60 {
		t.Errorf("balance after batch = %d, want 60", bal)
	}
	if bal := balanceOf(t, b, "+79035550000"); bal != 199 {
		t.Errorf("new member balance = %d, want 199 (floor(99999/500))", bal)
	}

	// Billing resends the batch: nothing changes, every applied event is a duplicate.
	again := b.accrue(t, batch)
	if again.Accepted != 0 || again.Duplicates != 6 {
		t.Errorf("replayed batch = %d accepted, %d duplicates, want 0 and 6", again.Accepted, again.Duplicates)
	}
	if bal := balanceOf(t, b, "+79161234567"); bal != 60 {
		t.Errorf("balance after replay = %d, want 60", bal)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

func balanceOf(t *testing.T, b *testBundle, phone string) int64 {
	t.Helper()
	acct, err := b.store.AccountByPhone(t.Context(), phone)
	if err != nil {
		t.Fatalf("AccountByPhone(%s): %v", phone, err)
	}
	bal, err := b.store.Balance(t.Context(), acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	return bal.Points
}

func TestAccrualsBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	oneEvent := `{"id":"x","phone":"+79161234567","category":"referral","occurred_at":"2026-03-01T10:00:00Z"}`
	tooMany := `{"events":[` + strings.Repeat(oneEvent+",", ingest.MaxBatch) + oneEvent + `]}`
	huge := `{"events":[` + strings.Repeat(" ", ingest.MaxBodyBytes) + `]}`
	tests := []struct {
		name, body string
		status     int
		code       string
		names      string // what the message must name ("" for anything)
	}{
		{"not JSON", `{"events":[`, http.StatusBadRequest, "malformed_request", ""},
		{"empty body", ``, http.StatusBadRequest, "malformed_request", ""},
		{"events not a list", `{"events":{"id":"x"}}`, http.StatusBadRequest, "malformed_request", ""},
		{"no events key", `{"evnts":[]}`, http.StatusBadRequest, "malformed_request", ""},
		{"unknown top-level field", `{"events":[],"dry_run":true}`, http.StatusBadRequest, "malformed_request", "dry_run"},
		{"trailing garbage", `{"events":[]} {"events":[]}`, http.StatusBadRequest, "malformed_request", ""},
		{"top-level key in another case", `{"Events":[` + oneEvent + `]}`, http.StatusBadRequest, "malformed_request", "Events"},
		{"events given twice", `{"events":[],"events":[` + oneEvent + `]}`, http.StatusBadRequest, "malformed_request", "twice"},
		{"not an object", `[` + oneEvent + `]`, http.StatusBadRequest, "malformed_request", ""},
		{"10,001 events", tooMany, http.StatusRequestEntityTooLarge, "too_many_events", ""},
		{"body over the cap", huge, http.StatusRequestEntityTooLarge, "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, text := b.post(t, "/api/v1/accruals", tt.body)
			var e struct{ Error, Message string }
			if err := json.Unmarshal([]byte(text), &e); err != nil {
				t.Fatalf("error body %q: %v", text, err)
			}
			if status != tt.status || e.Error != tt.code || e.Message == "" || !strings.Contains(e.Message, tt.names) {
				t.Errorf("POST %s = %d %s, want %d %s with a message (naming an unknown field)", tt.name, status, text, tt.status, tt.code)
			}
		})
	}
	// Exactly MaxBatch events is fine. (Most are refused before the ledger, to keep the test quick.)
	undated := `{"id":"u","phone":"+79161234567","category":"referral"}`
	body := `{"events":[` + strings.Repeat(undated+",", ingest.MaxBatch-1) + oneEvent + `]}`
	got := b.accrue(t, body)
	if got.Accepted != 1 || len(got.Rejected) != ingest.MaxBatch-1 {
		t.Errorf("10,000 events = %d accepted, %d rejected, want 1 and 9999", got.Accepted, len(got.Rejected))
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

// TestAccrualsConcurrentBatches sends overlapping batches at once (all admitted: the cap on batches in
// flight has its own test): every event applies exactly once.
func TestAccrualsConcurrentBatches(t *testing.T) {
	t.Parallel()
	const batches, perBatch, phones = 6, 60, 5
	b := setupWith(t, ingest.Options{MaxInflight: batches})
	var wg sync.WaitGroup
	results := make([]accrualsResp, batches)
	for k := range batches {
		wg.Go(func() {
			var evs []string
			for i := range perBatch {
				n := (k*perBatch/2 + i) // consecutive batches overlap by half
				evs = append(evs, fmt.Sprintf(`{"id":"e-%d","phone":"+7916000000%d","category":"mobile","amount":"10.00","occurred_at":"2026-03-01T10:00:00Z"}`, n, n%phones))
			}
			status, text := b.post(t, "/api/v1/accruals", `{"events":[`+strings.Join(evs, ",")+`]}`)
			if status != http.StatusOK {
				t.Errorf("batch %d = %d %s", k, status, text)
				return
			}
			if err := json.Unmarshal([]byte(text), &results[k]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var accepted, dups int
	for _, r := range results {
		accepted += r.Accepted
		dups += r.Duplicates
		if len(r.Rejected) != 0 {
			t.Errorf("rejected: %+v", r.Rejected)
		}
	}
	distinct := (batches + 1) * perBatch / 2
	if accepted != distinct || dups != batches*perBatch-distinct {
		t.Errorf("accepted %d, duplicates %d; want %d and %d", accepted, dups, distinct, batches*perBatch-distinct)
	}
	var total int64
	for p := range phones {
		total += balanceOf(t, b, fmt.Sprintf("+7916000000%d", p))
	}
	if want := int64(distinct * 2); total != want {
		t.Errorf("total points = %d, want %d", total, want)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

// TestAccrualsFaultIsWholeBatch500: a real database fault on one reversal answers 500 for the whole
// batch, without details, never 200 with that reversal "rejected"; resent once the fault is gone, the
// batch applies every event exactly once.
func TestAccrualsFaultIsWholeBatch500(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := `"occurred_at":"2026-03-01T10:00:00Z"`
	b.accrue(t, `{"events":[
		{"id":"a1","phone":"+79161234567","category":"mobile","amount":"500.00",`+at+`},
		{"id":"a2","phone":"+79161234567","category":"mobile","amount":"500.00",`+at+`},
		{"id":"a3","phone":"+79161234567","category":"mobile","amount":"500.00",`+at+`}]}`)
	batch := `{"events":[
		{"id":"a4","phone":"+79161234567","category":"mobile","amount":"500.00",` + at + `},
		{"id":"refund-1","reverses":"a1",` + at + `},
		{"id":"refund-2","reverses":"a2",` + at + `},
		{"id":"refund-3","reverses":"a3",` + at + `}]}`
	heal := ledgertest.FailInserts(t, b.store.Pool(), "billing_events", "id", "refund-2")
	status, text := b.post(t, "/api/v1/accruals", batch)
	if status != http.StatusInternalServerError || !strings.Contains(text, `"internal_error"`) || strings.Contains(text, "injected") {
		t.Fatalf("batch with a fault on refund-2 = %d %s, want 500 internal_error without details", status, text)
	}
	heal()
	if got := b.accrue(t, batch); got.Accepted != 2 || got.Duplicates != 2 || len(got.Rejected) != 0 {
		t.Errorf("resent batch = %+v, want 2 accepted (refund-2, refund-3), 2 duplicates (a4, refund-1)", got)
	}
	if got := b.accrue(t, batch); got.Accepted != 0 || got.Duplicates != 4 {
		t.Errorf("batch sent a third time = %+v, want 4 duplicates", got)
	}
	if bal := balanceOf(t, b, "+79161234567"); bal != 100 {
		t.Errorf("balance = %d, want 100 (a4 alone)", bal)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

// faultyLedger breaks the ledger's contract on purpose: it reports a fault as the last event's own
// error instead of the batch's. The handler must still not answer 200.
type faultyLedger struct{ *ledger.Store }

func (l faultyLedger) AccrueBatch(ctx context.Context, events []ledger.Event) ([]ledger.AccrualResult, []error, error) {
	results, errs, err := l.Store.AccrueBatch(ctx, events)
	if len(errs) > 0 {
		errs[len(errs)-1] = errors.New("connection reset by peer")
	}
	return results, errs, err
}

func TestAccrualsEventFaultIsNever200(t *testing.T) {
	t.Parallel()
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	srv := httptest.NewServer(ingest.New(faultyLedger{store}, token, slog.New(slog.NewTextHandler(tWriter{t}, nil)), ingest.Options{}))
	t.Cleanup(srv.Close)
	status, text := call(t, http.MethodPost, srv.URL+"/api/v1/accruals", "Bearer "+token,
		`{"events":[{"id":"x","phone":"+79161234567","category":"referral","occurred_at":"2026-03-01T10:00:00Z"}]}`)
	if status != http.StatusInternalServerError || strings.Contains(text, "reset") {
		t.Errorf("batch whose event failed with a fault = %d %s, want 500 without details", status, text)
	}
}

// TestAccrualsRefuseEventsAlone: an event the database could not store (a NUL byte, invalid UTF-8),
// that mints beyond the caps, or whose points would already have expired is refused alone, with a
// code; the rest of the batch applies, and a resend answers the same instead of failing forever.
func TestAccrualsRefuseEventsAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := `"occurred_at":"2026-03-01T10:00:00Z"`
	batch := `{"events":[
		{"id":"good","phone":"+79161234567","category":"mobile","amount":"500.00",` + at + `},
		{"id":"nul\u0000id","phone":"+79161234567","category":"mobile","amount":"1.00",` + at + `},
		{"id":"nul-cat","phone":"+79161234567","category":"mob\u0000ile","amount":"1.00",` + at + `},
		{"id":"nul-rev","reverses":"good\u0000",` + at + `},
		{"id":"coll` + "\xff" + `-1","phone":"+79161234567","category":"mobile","amount":"1.00",` + at + `},
		{"id":"coll` + "\xfe" + `-1","phone":"+79161234567","category":"mobile","amount":"1.00",` + at + `},
		{"id":"bad-utf8-cat","phone":"+79161234567","category":"mob` + "\xc3" + `","amount":"1.00",` + at + `},
		{"id":"mint","phone":"+79161234567","category":"mobile","amount":"1000000000000",` + at + `},
		{"id":"mint-rate","phone":"+79161234567","category":"salon","amount":"3000003.00",` + at + `},
		{"id":"cap","phone":"+79161234568","category":"mobile","amount":"5000000.00",` + at + `},
		{"id":"mint-points","phone":"+79161234567","category":"mobile","points":1000001,` + at + `},
		{"id":"old","phone":"+79161234567","category":"mobile","amount":"5000.00","occurred_at":"2025-01-14T10:00:00Z"}
	]}`
	wantRejected := map[string]string{
		"nul\x00id":    "invalid_event",
		"nul-cat":      "invalid_event",
		"nul-rev":      "invalid_event",
		"coll\uFFFD-1": "invalid_event", // twice: the id as far as it can be shown
		"bad-utf8-cat": "invalid_event",
		"mint":         "invalid_amount",
		"mint-rate":    "invalid_amount",
		"mint-points":  "invalid_event",
		"old":          "expired_event",
	}
	for i, wantDup := range []int{0, 2} {
		got := b.accrue(t, batch)
		if got.Accepted != 2-wantDup || got.Duplicates != wantDup || len(got.Rejected) != 10 {
			t.Errorf("send %d: %+v, want %d accepted, %d duplicates, 10 rejected", i+1, got, 2-wantDup, wantDup)
		}
		for _, r := range got.Rejected {
			if want := wantRejected[r.ID]; r.Error != want {
				t.Errorf("send %d: rejected %q = %q (%s), want %q", i+1, r.ID, r.Error, r.Message, want)
			}
		}
	}
	if bal := balanceOf(t, b, "+79161234567"); bal != 100 {
		t.Errorf("balance = %d, want 100 (good alone)", bal)
	}
	if bal := balanceOf(t, b, "+79161234568"); bal != ledger.MaxEventPoints {
		t.Errorf("balance = %d, want %d (the cap exactly)", bal, ledger.MaxEventPoints)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

// TestFieldsAreSpeltExactlyOnce: encoding/json alone matches a key in any case and lets a repeated
// key's last value win, so {"id":"a","ID":"b"} would be stored as event "b", and of two amounts billing
// and the ledger could each read another. An item that spells a field otherwise, or gives it twice,
// is refused; so is an item that is not an object.
func TestFieldsAreSpeltExactlyOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := `"occurred_at":"2026-03-01T10:00:00Z"`
	got := b.accrue(t, `{"events":[
		{"id":"a","ID":"b","phone":"+79161234567","category":"mobile","amount":"1.00",`+at+`},
		{"id":"c","phone":"+79161234567","category":"mobile","amount":"1.00","amount":"9000.00",`+at+`},
		{"id":"d","phone":"+79161234567","category":"mobile","Amount":"9000.00",`+at+`},
		null,
		{"id":"good","phone":"+79161234567","category":"mobile","amount":"500.00",`+at+`}]}`)
	if got.Accepted != 1 || len(got.Rejected) != 4 {
		t.Fatalf("batch = %+v, want good alone accepted and 4 rejected", got)
	}
	for i, r := range got.Rejected {
		if wantID := []string{"a", "c", "d", ""}[i]; r.Error != "invalid_event" || r.ID != wantID {
			t.Errorf("rejected %q = %s (%s), want %q refused as invalid_event", r.ID, r.Error, r.Message, wantID)
		}
	}
	if bal := balanceOf(t, b, "+79161234567"); bal != 100 {
		t.Errorf("balance = %d, want 100 (good alone)", bal)
	}
	status, text := b.post(t, "/api/v1/subscribers", `{"subscribers":[
		{"phone":"+79160000001","Account_Of":"+79161234567"}, null, {"phone":"+79160000002","phone":"+79160000003"}]}`)
	if status != http.StatusOK || strings.Count(text, `"invalid_event"`) != 3 {
		t.Errorf("POST subscribers = %d %s, want 3 items refused as invalid_event", status, text)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}
