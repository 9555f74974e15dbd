package fulfil

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

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/bot/notify"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

var ctx = context.Background()

type chat struct {
	mu  sync.Mutex
	got []string
}

func (c *chat) Notify(_ context.Context, chatID int64, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, fmt.Sprintf("%d: %s", chatID, text))
	return nil
}

func (c *chat) said() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// partner is a fake fulfilment partner answering each request with the next status (the last one
// repeats), remembering what it got.
type partner struct {
	mu       sync.Mutex
	statuses []int
	got      []*http.Request
	bodies   []Request
}

func (p *partner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req Request
	json.NewDecoder(r.Body).Decode(&req)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got, p.bodies = append(p.got, r), append(p.bodies, req)
	status := p.statuses[0]
	if len(p.statuses) > 1 {
		p.statuses = p.statuses[1:]
	}
	w.WriteHeader(status)
}

type bundle struct {
	pool    *pgxpool.Pool
	store   *ledger.Store
	chat    *chat
	sms     *dialogstest.SMS
	f       *Fulfil
	partner *partner
	account int64
}

// setup is a member linked to Telegram (chat 42) with 500 points and a catalogue item "22" of 170,
// and fulfilment against a fake partner answering statuses (none: no FULFILMENT_URL). With River, a
// client works the jobs and every redeem queues one.
func setup(t *testing.T, withRiver bool, statuses ...int) *bundle {
	t.Helper()
	pool := ledgertest.NewPool(t)
	if err := notify.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{pool: pool, chat: &chat{}, sms: &dialogstest.SMS{}}
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	opts := Options{Token: "partner-secret", Timeout: 2 * time.Second}
	if len(statuses) > 0 {
		b.partner = &partner{statuses: statuses}
		srv := httptest.NewServer(b.partner)
		t.Cleanup(srv.Close)
		opts.URL = srv.URL
	}
	reader := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow})
	b.f = New(reader, map[string]notify.Chat{"telegram": b.chat}, b.sms, texts, log, opts)
	storeOpts := ledger.Options{Location: ledgertest.Moscow}
	if withRiver {
		j := b.f.Jobs()
		client, err := notify.NewClient(pool, nil, log, notify.Jobs{Add: j.Add, Queues: j.Queues})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := client.Stop(stop); err != nil {
				t.Error(err)
			}
		})
		storeOpts.OnRedeem = OnRedeem(client)
	}
	b.store = ledger.NewStore(pool, storeOpts)
	p := int64(500)
	r, err := b.store.Accrue(ctx, ledger.Event{ID: "e1", Phone: "+79160000002", Category: "referral", Points: &p, OccurredAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b.account = r.AccountID
	if _, err := b.store.Link(ctx, ledger.Link{Channel: "telegram", UserID: 42, ChatID: 42, Phone: "+79160000002"}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.UpsertItems(ctx, []ledger.Item{{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 texts", Cost: 170, Active: true}}); err != nil {
		t.Fatal(err)
	}
	return b
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func (b *bundle) redeem(t *testing.T) ledger.Order {
	t.Helper()
	o, err := b.store.Redeem(ctx, ledger.RedeemRequest{AccountID: b.account, Code: "22"})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// settled waits for the order to leave "placed", and for River to finish its job.
func (b *bundle) settled(t *testing.T, id int64) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status string
		var busy int
		err := b.pool.QueryRow(ctx, `SELECT status, (SELECT count(*) FROM river_job WHERE state <> 'completed')
			FROM orders WHERE id = $1`, id).Scan(&status, &busy)
		if err != nil {
			t.Fatal(err)
		}
		if status != "placed" && busy == 0 {
			return status
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %d still %s after 30 s (%d jobs busy)", id, status, busy)
		}
		<-time.After(20 * time.Millisecond)
	}
}

func (b *bundle) balance(t *testing.T) int64 {
	t.Helper()
	bal, err := b.store.Balance(ctx, b.account)
	if err != nil {
		t.Fatal(err)
	}
	return bal.Points
}

// TestWithoutURLOrdersFulfilAtOnce: the demo path; the redeem reply said it all, so no notice.
func TestWithoutURLOrdersFulfilAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	o := b.redeem(t)
	if s := b.settled(t, o.ID); s != "completed" {
		t.Errorf("order = %s, want completed", s)
	}
	if said := b.chat.said(); len(said) != 0 {
		t.Errorf("notices %v, want none", said)
	}
}

// TestPartnerFulfils: the order is POSTed with its idempotency key and the partner's token; a 2xx
// completes it and the subscriber is told.
func TestPartnerFulfils(t *testing.T) {
	t.Parallel()
	b := setup(t, true, http.StatusAccepted)
	o := b.redeem(t)
	if s := b.settled(t, o.ID); s != "completed" {
		t.Fatalf("order = %s, want completed", s)
	}
	r, body := b.partner.got[0], b.partner.bodies[0]
	if r.Header.Get("Idempotency-Key") != fmt.Sprintf("order-%d", o.ID) || r.Header.Get("Authorization") != "Bearer partner-secret" ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("partner got headers %v", r.Header)
	}
	if body.OrderID != o.ID || body.Phone != "+79160000002" || body.ItemCode != "22" || body.ItemTitle != "50 SMS" || body.Cost != 170 || body.PlacedAt.IsZero() {
		t.Errorf("partner got %+v", body)
	}
	if said := b.chat.said(); len(said) != 1 || said[0] != "42: Вознаграждение «50 SMS» подключено." {
		t.Errorf("notices %q", said)
	}
	if got := b.balance(t); got != 330 {
		t.Errorf("balance = %d, want 330", got)
	}
}

// TestPartnerRefuses: a 4xx fails the order and gives the points back.
func TestPartnerRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t, true, http.StatusUnprocessableEntity)
	o := b.redeem(t)
	if s := b.settled(t, o.ID); s != "failed" {
		t.Fatalf("order = %s, want failed", s)
	}
	if got := b.balance(t); got != 500 {
		t.Errorf("balance after the refund = %d, want 500", got)
	}
	want := "42: Не получилось выдать вознаграждение «50 SMS». Вернули 170\u00a0баллов на ваш счёт — теперь у вас 500\u00a0баллов."
	if said := b.chat.said(); len(said) != 1 || said[0] != want {
		t.Errorf("notices %q, want %q", said, want)
	}
	ledgertest.CheckInvariants(t, b.pool)
}

func (b *bundle) work(id int64, attempt int) error {
	job := &river.Job[Args]{JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: Attempts, Kind: Args{}.Kind()}, Args: Args{OrderID: id}}
	return (&worker{f: b.f}).Work(ctx, job)
}

func (b *bundle) status(t *testing.T, id int64) string {
	t.Helper()
	d, err := b.store.OrderDetails(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Status
}

// TestPartnerDownRetriesThenRefunds: 5xx, 429 and timeouts are retried; the last attempt refunds;
// a retry after that only tells the subscriber again, and refunds nothing twice.
func TestPartnerDownRetriesThenRefunds(t *testing.T) {
	t.Parallel()
	b := setup(t, false, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway)
	o := b.redeem(t)
	for attempt := 1; attempt < 3; attempt++ {
		if err := b.work(o.ID, attempt); !errors.Is(err, errPartner) || b.status(t, o.ID) != "placed" {
			t.Fatalf("attempt %d = %v, status %s; want a retry, still placed", attempt, err, b.status(t, o.ID))
		}
	}
	if err := b.work(o.ID, Attempts); err != nil || b.status(t, o.ID) != "failed" || b.balance(t) != 500 {
		t.Fatalf("last attempt = %v, status %s, balance %d; want failed and refunded", err, b.status(t, o.ID), b.balance(t))
	}
	if err := b.work(o.ID, Attempts); err != nil || b.balance(t) != 500 || len(b.partner.got) != 3 {
		t.Errorf("a replay = %v, balance %d, partner asked %d times; want no second refund and no new request", err, b.balance(t), len(b.partner.got))
	}
	if said := b.chat.said(); len(said) != 2 || !strings.Contains(said[0], "Вернули 170") {
		t.Errorf("notices %q", said)
	}
	ledgertest.CheckInvariants(t, b.pool)
}

func TestPartnerTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	done := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-done }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(done) }) // first: lets the handler end, so Close returns
	b.f.opts.URL, b.f.opts.Timeout = slow.URL, 100*time.Millisecond
	o := b.redeem(t)
	if err := b.work(o.ID, 1); !errors.Is(err, errPartner) || b.status(t, o.ID) != "placed" {
		t.Errorf("a timed-out attempt = %v, status %s; want a retry", err, b.status(t, o.ID))
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for attempt, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 5: 8 * time.Minute, 7: 30 * time.Minute, 40: 30 * time.Minute} {
		if got := backoff(attempt); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
	for a := 1; a < Attempts; a++ {
		total += backoff(a)
	}
	if total < 45*time.Minute || total > 90*time.Minute {
		t.Errorf("%d attempts span %v, want about an hour", Attempts, total)
	}
}

// TestSweepQueuesOrdersWithoutJobs: an order placed before fulfilment existed gets its job.
func TestSweepQueuesOrdersWithoutJobs(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	plain := ledger.NewStore(b.pool, ledger.Options{Location: ledgertest.Moscow}) // no hook: no job
	o, err := plain.Redeem(ctx, ledger.RedeemRequest{AccountID: b.account, Code: "22"})
	if err != nil {
		t.Fatal(err)
	}
	b.f.opts.Now = func() time.Time { return time.Now().Add(time.Hour) }
	client, err := notify.NewClient(b.pool, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Insert(ctx, SweepArgs{}); err != nil {
		t.Fatal(err)
	}
	if s := b.settled(t, o.ID); s != "completed" {
		t.Errorf("order = %s, want completed by the job the sweep queued", s)
	}
}

// A partner that wants its key in the URL's query: a failed attempt's error goes to the log and into
// the job's row, and must not carry that key.
func TestPartnerErrorHidesTheURL(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	b.f.opts.URL = down.URL + "/orders?access_token=partner-key"
	o := b.redeem(t)
	if err := b.work(o.ID, 1); !errors.Is(err, errPartner) || strings.Contains(err.Error(), "partner-key") {
		t.Errorf("an attempt while the partner is down = %v, want a retry without the URL's key", err)
	}
}
