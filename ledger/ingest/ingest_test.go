package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

func setup(t *testing.T) *testBundle { return setupWith(t, ingest.Options{}) }

func setupWith(t *testing.T, opts ingest.Options) *testBundle {
	t.Helper()
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	srv := httptest.NewServer(ingest.New(store, token, log, opts))
	t.Cleanup(srv.Close)
	return &testBundle{store: store, srv: srv}
}

// tWriter sends the handler's log to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// call sends body (empty for none, else as application/json) with the given Authorization header and
// returns status and body. It reports a transport failure with t.Error, not t.Fatal, so goroutines may use it.
func call(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return callAs(t, method, url, auth, contentType, body)
}

// callAs is call with the Content-Type header given (none if empty).
func callAs(t *testing.T, method, url, auth, contentType, body string) (int, string) {
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
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
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
	return callAs(t, http.MethodPost, b.srv.URL+path, "Bearer "+token, "application/json", body)
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
		req.Header.Set("Content-Type", "application/json")
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

func TestBlockAndUnblock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.accrue(t, `{"events":[{"id":"a","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2026-03-14T09:00:00Z"}]}`)
	status, text := b.post(t, "/api/v1/accounts/8%20916%20123-45-67/block", "")
	if status != http.StatusOK || !strings.Contains(text, `"blocked":true`) {
		t.Fatalf("block = %d %s, want 200 with blocked true", status, text)
	}
	r := b.accrue(t, `{"events":[{"id":"b","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2026-03-14T09:00:00Z"}]}`)
	if r.Accepted != 0 || len(r.Rejected) != 1 {
		t.Errorf("accrual to a blocked account = %+v, want it rejected", r)
	}
	status, text = b.post(t, "/api/v1/accounts/%2B79161234567/unblock", "")
	if status != http.StatusOK || !strings.Contains(text, `"blocked":false`) {
		t.Fatalf("unblock = %d %s, want 200 with blocked false", status, text)
	}
	if status, _ := b.post(t, "/api/v1/accounts/%2B79169999999/block", ""); status != http.StatusNotFound {
		t.Errorf("block of an unknown phone = %d, want 404", status)
	}
	if status, _ := call(t, http.MethodPost, b.srv.URL+"/api/v1/accounts/%2B79161234567/block", "", ""); status != http.StatusUnauthorized {
		t.Errorf("block without a token = %d, want 401", status)
	}
}

// TestContentType: the batch endpoints take only JSON bodies, labelled as such; anything else is 415
// before the body is read.
func TestContentType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		contentType string
		want        int
	}{
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"Application/JSON; Charset=UTF-8", http.StatusOK},
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/json; boundary=x", http.StatusUnsupportedMediaType},
		{"application/json;;", http.StatusUnsupportedMediaType},
	}
	for _, path := range []string{"/api/v1/accruals", "/api/v1/subscribers"} {
		body := `{"events":[]}`
		if path == "/api/v1/subscribers" {
			body = `{"subscribers":[]}`
		}
		for _, tt := range tests {
			status, text := callAs(t, http.MethodPost, b.srv.URL+path, "Bearer "+token, tt.contentType, body)
			if status != tt.want {
				t.Errorf("POST %s as %q = %d %s, want %d", path, tt.contentType, status, text, tt.want)
			}
			if status == http.StatusUnsupportedMediaType && !strings.Contains(text, `"unsupported_media_type"`) {
				t.Errorf("POST %s as %q = %s, want code unsupported_media_type", path, tt.contentType, text)
			}
		}
	}
}

// gatedLedger holds every accrual batch until release is closed, after saying so on entered.
type gatedLedger struct {
	*ledger.Store
	entered chan struct{}
	release chan struct{}
}

func (l gatedLedger) AccrueBatch(ctx context.Context, events []ledger.Event) ([]ledger.AccrualResult, []error, error) {
	l.entered <- struct{}{}
	<-l.release
	return l.Store.AccrueBatch(ctx, events)
}

// TestMaxInflight: beyond MaxInflight batches at once, a batch is answered 503 with Retry-After at
// once instead of waiting; lookups are not held back; once a slot is free the batch goes through.
func TestMaxInflight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gate := gatedLedger{Store: b.store, entered: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(ingest.New(gate, token, slog.New(slog.NewTextHandler(tWriter{t}, nil)), ingest.Options{MaxInflight: 1}))
	t.Cleanup(srv.Close)
	batch := `{"events":[{"id":"x","phone":"+79161234567","category":"referral","occurred_at":"2026-03-01T10:00:00Z"}]}`
	first := make(chan int, 1)
	go func() {
		status, _ := callAs(t, http.MethodPost, srv.URL+"/api/v1/accruals", "Bearer "+token, "application/json", batch)
		first <- status
	}()
	<-gate.entered
	client := &http.Client{Timeout: 30 * time.Second} // a request that waited for the slot would fail here
	for _, path := range []string{"/api/v1/accruals", "/api/v1/subscribers"} {
		// The body is never read: the slot is checked first.
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(`{"subscribers":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), `"overloaded"`) {
			t.Errorf("POST %s while the slot is taken = %d (Retry-After %q) %s, want 503 overloaded with Retry-After 1",
				path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if status, text := call(t, http.MethodGet, srv.URL+"/api/v1/accounts/%2B79169999999", "Bearer "+token, ""); status != http.StatusNotFound {
		t.Errorf("lookup while the slot is taken = %d %s, want 404 (lookups take no slot)", status, text)
	}
	close(gate.release)
	if status := <-first; status != http.StatusOK {
		t.Errorf("the batch holding the slot = %d, want 200", status)
	}
	go func() { <-gate.entered }()
	if status, text := callAs(t, http.MethodPost, srv.URL+"/api/v1/accruals", "Bearer "+token, "application/json", batch); status != http.StatusOK {
		t.Errorf("retry after the slot is free = %d %s, want 200", status, text)
	}
}

// TestDeadlines: a request stuck behind the database (here, a lock another session holds) ends at its
// server-side deadline with 500, safe to resend, and never waits as long as its client would.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.accrue(t, `{"events":[{"id":"a","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2026-03-14T09:00:00Z"}]}`)
	srv := httptest.NewServer(ingest.New(b.store, token, slog.New(slog.NewTextHandler(tWriter{t}, nil)),
		ingest.Options{Timeout: 200 * time.Millisecond, BatchTimeout: 200 * time.Millisecond}))
	t.Cleanup(srv.Close)
	holder, err := b.store.Pool().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Rollback(context.Background()) })
	if _, err := holder.Exec(t.Context(), `SELECT 1 FROM accounts FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second} // far beyond the server's deadlines
	for _, tt := range []struct{ path, body string }{
		{"/api/v1/accruals", `{"events":[{"id":"b","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2026-03-14T09:00:00Z"}]}`},
		{"/api/v1/accounts/%2B79161234567/block", ""},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("POST %s behind a held lock: %v, want the server's own 500 first", tt.path, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "internal_error") {
			t.Errorf("POST %s behind a held lock = %d %s, want 500 internal_error", tt.path, resp.StatusCode, body)
		}
	}
}

// TestUnknownRoutes: a path or method the API does not serve is answered in JSON like everything
// else, 405 with Allow for a known path, 404 otherwise, never the mux's plain text.
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/api/v1/accruals", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodDelete, "/api/v1/accounts/%2B79161234567", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodGet, "/api/v1/accounts/%2B79161234567/block", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodPost, "/api/v1/accrual", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v1/", http.StatusNotFound, "not_found", ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, b.srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error, Message string }
		decodeErr := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.status || decodeErr != nil || e.Error != tt.code || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d %+v (Allow %q, %v), want %d %s (Allow %q)", tt.method, tt.path, resp.StatusCode, e,
				resp.Header.Get("Allow"), decodeErr, tt.status, tt.code, tt.allow)
		}
	}
}
