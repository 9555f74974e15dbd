package ingest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"bonusbot/ledger"
	"bonusbot/ledger/ingest"
	"bonusbot/ledger/ledgertest"
)

const token = "s3cret-token"

type testBundle struct {
	store *ledger.Store
	srv   *httptest.Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	srv := httptest.NewServer(ingest.New(store, token, log, ingest.Options{}))
	t.Cleanup(srv.Close)
	return &testBundle{store: store, srv: srv}
}

// tWriter sends the handler's log to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// call sends body (empty for none) with the given Authorization header and returns status and body.
// It reports a transport failure with t.Error, not t.Fatal, so goroutines may use it.
func call(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return resp.StatusCode, string(b)
}

func (b *testBundle) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	return call(t, http.MethodPost, b.srv.URL+path, "Bearer "+token, body)
}

type accrualsResp struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   []struct {
		ID      string `json:"id"`
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"rejected"`
}

func (b *testBundle) accrue(t *testing.T, body string) accrualsResp {
	t.Helper()
	status, text := b.post(t, "/api/v1/accruals", body)
	if status != http.StatusOK {
		t.Fatalf("POST accruals = %d %s, want 200", status, text)
	}
	var r accrualsResp
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("accruals response %s: %v", text, err)
	}
	return r
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	noToken := httptest.NewServer(ingest.New(b.store, "", slog.New(slog.DiscardHandler), ingest.Options{}))
	t.Cleanup(noToken.Close)
	body := `{"events":[]}`
	tests := []struct {
		name, base, auth string
		want             int
	}{
		{"right token", b.srv.URL, "Bearer " + token, http.StatusOK},
		{"scheme in lower case", b.srv.URL, "bearer " + token, http.StatusOK},
		{"no header", b.srv.URL, "", http.StatusUnauthorized},
		{"wrong token", b.srv.URL, "Bearer nope", http.StatusUnauthorized},
		{"token prefix", b.srv.URL, "Bearer " + token[:5], http.StatusUnauthorized},
		{"basic auth", b.srv.URL, "Basic " + token, http.StatusUnauthorized},
		{"empty configured token, empty bearer", noToken.URL, "Bearer ", http.StatusUnauthorized},
		{"empty configured token, some bearer", noToken.URL, "Bearer " + token, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, text := call(t, http.MethodPost, tt.base+"/api/v1/accruals", tt.auth, body)
			if got != tt.want {
				t.Errorf("POST with %q = %d %s, want %d", tt.auth, got, text, tt.want)
			}
		})
	}
	// Unauthenticated callers learn nothing about routes either.
	if got, _ := call(t, http.MethodGet, b.srv.URL+"/api/v1/accounts/%2B79161234567", "", ""); got != http.StatusUnauthorized {
		t.Errorf("GET account without token = %d, want 401", got)
	}
}

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
	}{
		{"not JSON", `{"events":[`, http.StatusBadRequest, "malformed_request"},
		{"empty body", ``, http.StatusBadRequest, "malformed_request"},
		{"events not a list", `{"events":{"id":"x"}}`, http.StatusBadRequest, "malformed_request"},
		{"no events key", `{"evnts":[]}`, http.StatusBadRequest, "malformed_request"},
		{"trailing garbage", `{"events":[]} {"events":[]}`, http.StatusBadRequest, "malformed_request"},
		{"10,001 events", tooMany, http.StatusRequestEntityTooLarge, "too_many_events"},
		{"body over the cap", huge, http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, text := b.post(t, "/api/v1/accruals", tt.body)
			var e struct{ Error, Message string }
			if err := json.Unmarshal([]byte(text), &e); err != nil {
				t.Fatalf("error body %q: %v", text, err)
			}
			if status != tt.status || e.Error != tt.code || e.Message == "" {
				t.Errorf("POST %s = %d %s, want %d %s with a message", tt.name, status, text, tt.status, tt.code)
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

// TestAccrualsConcurrentBatches sends overlapping batches at once: every event applies exactly once.
func TestAccrualsConcurrentBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const batches, perBatch, phones = 6, 60, 5
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

func TestSubscribers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.store.Enrol(t.Context(), "+79160000001", ""); err != nil {
		t.Fatal(err)
	}
	status, text := b.post(t, "/api/v1/subscribers", `{"subscribers":[
		{"phone":"+7 (916) 000-00-02"},
		{"phone":"89160000003","account_of":"+79160000002"},
		{"phone":"+79160000003","account_of":"+79160000002"},
		{"phone":"+79160000001","account_of":"+79160000002"},
		{"phone":"+79160000004","account_of":"+79169999999"},
		{"phone":"12345"}
	]}`)
	if status != http.StatusOK {
		t.Fatalf("POST subscribers = %d %s", status, text)
	}
	var got struct {
		Enrolled, Rejected int
		Results            []struct {
			Phone     string   `json:"phone"`
			AccountID int64    `json:"account_id"`
			Phones    []string `json:"phones"`
			Error     string   `json:"error"`
		}
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	if got.Enrolled != 3 || got.Rejected != 3 || len(got.Results) != 6 {
		t.Fatalf("subscribers = %s, want 3 enrolled, 3 rejected", text)
	}
	r := got.Results
	if r[0].Phone != "+79160000002" || r[0].AccountID == 0 || r[1].AccountID != r[0].AccountID || r[2].AccountID != r[0].AccountID {
		t.Errorf("family account: %+v", r[:3])
	}
	if len(r[2].Phones) != 2 {
		t.Errorf("phones of the family account = %v, want 2", r[2].Phones)
	}
	for i, want := range []string{"phone_taken", "unknown_phone", "invalid_phone"} {
		if r[3+i].Error != want {
			t.Errorf("result %d error = %q, want %q", 3+i, r[3+i].Error, want)
		}
	}
	if status, text := b.post(t, "/api/v1/subscribers", `{"subscribers":`); status != http.StatusBadRequest {
		t.Errorf("malformed subscribers = %d %s, want 400", status, text)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

func TestAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.accrue(t, `{"events":[
		{"id":"a1","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2025-04-01T10:00:00Z"},
		{"id":"a2","phone":"+79161234567","category":"bank_card","amount":"3000.00","occurred_at":"2026-02-28T22:30:00Z"},
		{"id":"a3","phone":"+79161234567","category":"referral","occurred_at":"2025-01-01T10:00:00Z"}
	]}`)
	if got.Accepted != 3 {
		t.Fatalf("setup batch: %+v", got)
	}
	get := func(phone string) (int, string) {
		return call(t, http.MethodGet, b.srv.URL+"/api/v1/accounts/"+url.PathEscape(phone), "Bearer "+token, "")
	}
	status, text := get("+7 (916) 123-45-67")
	if status != http.StatusOK {
		t.Fatalf("GET account = %d %s", status, text)
	}
	var acct struct {
		AccountID int64    `json:"account_id"`
		Phones    []string `json:"phones"`
		Balance   int64    `json:"balance"`
		Debt      int64    `json:"debt"`
		Lots      []struct {
			ExpiresOn string `json:"expires_on"`
			Points    int64  `json:"points"`
		} `json:"lots"`
		Operations []struct {
			Kind   string `json:"kind"`
			Points int64  `json:"points"`
			Detail string `json:"detail"`
		} `json:"operations"`
	}
	if err := json.Unmarshal([]byte(text), &acct); err != nil {
		t.Fatal(err)
	}
	// a3 expired on 2026-01-01 (the clock is 2026-03-14); a2 at 01:30 Moscow on 1 March expires 2027-03-01.
	if acct.Balance != 200 || acct.Debt != 0 || len(acct.Phones) != 1 || acct.Phones[0] != "+79161234567" {
		t.Errorf("account = %s, want balance 200, one phone", text)
	}
	wantLots := "2026-04-01:100 2027-03-01:100"
	var lots []string
	for _, l := range acct.Lots {
		lots = append(lots, fmt.Sprintf("%s:%d", l.ExpiresOn, l.Points))
	}
	if strings.Join(lots, " ") != wantLots {
		t.Errorf("lots = %v, want %s", lots, wantLots)
	}
	if len(acct.Operations) != 3 || acct.Operations[0].Kind != "accrual" {
		t.Errorf("operations = %+v, want 3 accruals", acct.Operations)
	}
	for _, tt := range []struct {
		phone string
		want  int
	}{
		{"89161234567", http.StatusOK},
		{"+79990000000", http.StatusNotFound},
		{"not-a-phone", http.StatusBadRequest},
	} {
		if status, text := get(tt.phone); status != tt.want {
			t.Errorf("GET account %q = %d %s, want %d", tt.phone, status, text, tt.want)
		}
	}
}

// TestFaults: when the database fails, a batch and a lookup answer 500 with nothing of the cause
// shown; billing resends the batch.
func TestFaults(t *testing.T) {
	t.Parallel()
	pool := ledgertest.NewPool(t)
	store := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow})
	srv := httptest.NewServer(ingest.New(store, token, slog.New(slog.NewTextHandler(tWriter{t}, nil)), ingest.Options{}))
	t.Cleanup(srv.Close)
	pool.Close() // every query now fails: a fault, not a refusal
	b := &testBundle{store: store, srv: srv}
	status, text := b.post(t, "/api/v1/accruals", `{"events":[{"id":"x","phone":"+79161234567","category":"referral","occurred_at":"2026-03-01T10:00:00Z"}]}`)
	if status != http.StatusInternalServerError || !strings.Contains(text, "internal_error") || strings.Contains(text, "closed") {
		t.Errorf("batch on a closed pool = %d %s, want 500 internal_error without details", status, text)
	}
	status, text = call(t, http.MethodGet, srv.URL+"/api/v1/accounts/%2B79161234567", "Bearer "+token, "")
	if status != http.StatusInternalServerError || !strings.Contains(text, "internal_error") {
		t.Errorf("GET account on a closed pool = %d %s, want 500 internal_error", status, text)
	}
}

// BenchmarkPostAccruals measures HTTP ingest in batches of 1,000 new events over 1,000 phones.
func BenchmarkPostAccruals(b *testing.B) {
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(b, clock, ledger.Options{})
	srv := httptest.NewServer(ingest.New(store, token, slog.New(slog.DiscardHandler), ingest.Options{}))
	b.Cleanup(srv.Close)
	const batch = 1000
	n := 0
	for b.Loop() {
		evs := make([]string, batch)
		for i := range evs {
			evs[i] = fmt.Sprintf(`{"id":"b-%d","phone":"+7916%07d","category":"mobile","amount":"100.00","occurred_at":"2026-03-01T10:00:00Z"}`, n, n%1000)
			n++
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/accruals", strings.NewReader(`{"events":[`+strings.Join(evs, ",")+`]}`))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
