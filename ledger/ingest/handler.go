// Package ingest is the HTTP API billing and support call: accrual batches, subscriber enrolment and
// an account lookup, all under one bearer token. It adapts HTTP to the ledger and holds no rules.
package ingest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"bonusbot/ledger"
)

// MaxBatch is the most events or subscribers one request may carry; more is 413.
const MaxBatch = 10_000

// MaxBodyBytes caps a request body. 10,000 events of ~250 bytes fit with room for pretty-printing.
const MaxBodyBytes = 8 << 20

// Ledger is what the API needs from the ledger; *ledger.Store implements it.
type Ledger interface {
	AccrueBatch(ctx context.Context, events []ledger.Event) ([]ledger.AccrualResult, []error, error)
	Enrol(ctx context.Context, phone, accountOf string) (ledger.Account, error)
	AccountByPhone(ctx context.Context, phone string) (ledger.Account, error)
	Balance(ctx context.Context, accountID int64) (ledger.Balance, error)
	Lots(ctx context.Context, accountID int64) ([]ledger.Lot, error)
	History(ctx context.Context, accountID, beforeTx int64, limit int) ([]ledger.Operation, error)
	SetBlocked(ctx context.Context, accountID int64, blocked bool) error
}

// Options tune a Handler. The zero value is fine.
type Options struct {
	// MaxInflight is how many batch requests (accruals, subscribers) may run at once (default 4); one
	// more is answered at once with 503 and Retry-After. Each batch holds a database connection while
	// it applies, so this keeps the pool free for the bot; and a request that waited for a slot
	// instead would only hold the client's connection while the database is the bottleneck anyway.
	MaxInflight int
	// Timeout bounds every request but batches (default 10 s); BatchTimeout a batch (default 60 s).
	// A request over its deadline is a fault: 500, and safe to resend.
	Timeout, BatchTimeout time.Duration
}

// RetryAfter is what a request refused for lack of a slot is told to wait: batches take well under
// a second each (README, Benchmarks), so a slot is soon free.
const RetryAfter = time.Second

// Handler serves /api/v1/. Mount it with mux.Handle("/api/v1/", h).
type Handler struct {
	ledger  Ledger
	token   [sha256.Size]byte
	noToken bool
	opts    Options
	batches chan struct{} // a slot per batch running now
	log     *slog.Logger
	mux     *http.ServeMux
}

// New returns the API over l. With an empty token every call is refused with 401, so a forgotten
// INGEST_TOKEN never opens the ledger to the network.
func New(l Ledger, token string, log *slog.Logger, opts Options) *Handler {
	opts.MaxInflight = cmp.Or(max(opts.MaxInflight, 0), 4)
	opts.Timeout = cmp.Or(max(opts.Timeout, 0), 10*time.Second)
	opts.BatchTimeout = cmp.Or(max(opts.BatchTimeout, 0), time.Minute)
	h := &Handler{
		ledger:  l,
		token:   sha256.Sum256([]byte(token)),
		noToken: token == "",
		opts:    opts,
		batches: make(chan struct{}, opts.MaxInflight),
		log:     log,
		mux:     http.NewServeMux(),
	}
	h.mux.HandleFunc("POST /api/v1/accruals", h.batch(h.postAccruals))
	h.mux.HandleFunc("POST /api/v1/subscribers", h.batch(h.postSubscribers))
	h.mux.HandleFunc("GET /api/v1/accounts/{phone}", h.single(h.getAccount))
	h.mux.HandleFunc("POST /api/v1/accounts/{phone}/block", h.single(h.blockAccount))
	h.mux.HandleFunc("POST /api/v1/accounts/{phone}/unblock", h.single(h.unblockAccount))
	h.mux.HandleFunc(routeNone, h.unknownRoute)
	return h
}

// routeNone takes every request the routes above do not, so that it too is answered in JSON.
const routeNone = "/api/v1/"

// unknownRoute answers a request no route takes: 405 with Allow when the path is served with other
// methods, else 404; in JSON, as every answer of the API is, not the mux's plain text.
func (h *Handler) unknownRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != routeNone {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.writeError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not served here")
		return
	}
	h.writeError(w, r, http.StatusNotFound, "not_found", "no such endpoint")
}

// batch runs next in a free slot, under BatchTimeout, or answers 503 with Retry-After when every slot
// is taken. The slot is taken before the body is read, so a refused request costs next to nothing.
func (h *Handler) batch(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case h.batches <- struct{}{}:
			defer func() { <-h.batches }()
		default:
			w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
			h.writeError(w, r, http.StatusServiceUnavailable, "overloaded",
				fmt.Sprintf("%d batches are running; retry after %d s", h.opts.MaxInflight, int(RetryAfter.Seconds())))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.BatchTimeout)
		defer cancel()
		next(w, r.WithContext(ctx))
	}
}

// single runs next under Timeout.
func (h *Handler) single(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
		defer cancel()
		next(w, r.WithContext(ctx))
	}
}

// ServeHTTP checks the token before routing, so an unauthenticated caller learns nothing, not even
// which paths exist.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bonusbot"`)
		h.writeError(w, r, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// authorized compares hashes in constant time, so neither the token's bytes nor its length leak
// through timing.
func (h *Handler) authorized(r *http.Request) bool {
	if h.noToken {
		return false
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(sum[:], h.token[:]) == 1
}

// errorBody is every non-2xx answer, and each rejected item: a stable code and a readable message.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	h.writeJSON(w, r, status, errorBody{Error: code, Message: message})
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The status is already sent; the client most likely went away.
		h.log.DebugContext(r.Context(), "ingest: write response", "path", r.URL.Path, "err", err)
	}
}
