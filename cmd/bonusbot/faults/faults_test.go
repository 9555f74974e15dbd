package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/ledger/ledgertest"
)

// TestFaults runs issue 8's findings against bonusbot serve on a cluster of its own, in order: the
// harmless ones first, then a crash of Postgres under a batch, then a frozen Postgres and SIGTERM.
// They share one cluster and one process, so they run one after another, not in parallel.
func TestFaults(t *testing.T) {
	t.Parallel() // with the other packages' tests; the steps below are sequential
	c := startCluster(t)
	s := startServe(t, c) // default deadlines: a batch of 6,000 reversals, one transaction each, takes seconds
	db := c.pool("bonusbot")
	steps := []struct {
		name string
		run  func(t *testing.T, c *cluster, s *server)
	}{
		{"3: a NUL byte refuses one event, not the batch forever", nulByte},
		{"2: an expired accrual is refused and makes no debt", expiredAccrual},
		{"6: concurrent replays of a reversal are duplicates", reversalReplays},
		{"1: Postgres crashing under a batch of reversals is 500, and the resend applies each once", crashUnderBatch},
		{"11: Postgres frozen: deadlines answer, SIGTERM exits 0", frozen},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) { st.run(t, c, s) }) {
			return // the next step needs this one's state
		}
	}
	c.thaw()
	ledgertest.CheckInvariants(t, db)
}

func nulByte(t *testing.T, _ *cluster, s *server) {
	body := events([]string{
		`{"id":"nul-ok","phone":"+79160000001","category":"mobile","amount":"500.00","occurred_at":"` + recent() + `"}`,
		`{"id":"nul\u0000id","phone":"+79160000001","category":"mobile","amount":"500.00","occurred_at":"` + recent() + `"}`,
		`{"id":"nul-cat","phone":"+79160000001","category":"mob\u0000ile","amount":"500.00","occurred_at":"` + recent() + `"}`,
	})
	for i, wantDup := range []int{0, 1} {
		r := s.accrue(body)
		if r.Accepted != 1-wantDup || r.Duplicates != wantDup || len(r.Rejected) != 2 || r.Rejected[0].Error != "invalid_event" || r.Rejected[1].Error != "invalid_event" {
			t.Errorf("send %d: %+v, want the good event applied (or a duplicate) and two invalid_event", i+1, r)
		}
	}
}

func expiredAccrual(t *testing.T, _ *cluster, s *server) {
	old := time.Now().AddDate(0, -14, 0).UTC().Format(time.RFC3339)
	r := s.accrue(events([]string{
		`{"id":"live-1","phone":"+79160000002","category":"mobile","amount":"5000.00","occurred_at":"` + recent() + `"}`,
		`{"id":"old-1","phone":"+79160000002","category":"mobile","amount":"5000.00","occurred_at":"` + old + `"}`,
		`{"id":"old-2","phone":"+79160000003","category":"mobile","amount":"5000.00","occurred_at":"` + old + `"}`,
	}))
	if r.Accepted != 1 || len(r.Rejected) != 2 || r.Rejected[0].Error != "expired_event" || r.Rejected[1].Error != "expired_event" {
		t.Errorf("accruals 14 months old: %+v, want both refused as expired_event", r)
	}
	r = s.accrue(events([]string{
		`{"id":"old-1-rev","reverses":"old-1","occurred_at":"` + recent() + `"}`,
		`{"id":"old-2-rev","reverses":"old-2","occurred_at":"` + recent() + `"}`,
	}))
	if len(r.Rejected) != 2 || r.Rejected[0].Error != "unknown_event" {
		t.Errorf("reversals of refused accruals: %+v, want unknown_event", r)
	}
	if status, text := s.get("/api/v1/accounts/%2B79160000002"); status != http.StatusOK || !strings.Contains(text, `"balance":1000,"debt":0`) {
		t.Errorf("member after the old accrual and its reversal = %d %s, want its 1,000 live points and no debt", status, text)
	}
	if status, text := s.get("/api/v1/accounts/%2B79160000003"); status != http.StatusNotFound {
		t.Errorf("new phone after the old accrual and its reversal = %d %s, want 404: no account, no debt", status, text)
	}
}

func reversalReplays(t *testing.T, _ *cluster, s *server) {
	const n, replays = 100, 8
	var evs []string
	for i := range n {
		evs = append(evs, fmt.Sprintf(`{"id":"rr-%d","phone":"+7916100%04d","category":"mobile","amount":"500.00","occurred_at":"%s"}`, i, i, recent()))
	}
	if r := s.accrue(events(evs)); r.Accepted != n {
		t.Fatalf("accruals: %+v", r)
	}
	var mu sync.Mutex
	applied, wrong := 0, []string{}
	for i := range n { // replays of one reversal at once, fewer than INGEST_MAX_INFLIGHT
		var wg sync.WaitGroup
		// One body for all replays: the same id with another occurred_at would be a conflict.
		body := events([]string{fmt.Sprintf(`{"id":"rr-rev-%d","reverses":"rr-%d","occurred_at":"%s"}`, i, i, recent())})
		for range replays {
			wg.Go(func() {
				status, text := s.post("/api/v1/accruals", body)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case status == http.StatusOK && strings.Contains(text, `"accepted":1`):
					applied++
				case status == http.StatusOK && strings.Contains(text, `"duplicates":1`):
				default:
					wrong = append(wrong, fmt.Sprintf("rr-rev-%d: %d %s", i, status, text))
				}
			})
		}
		wg.Wait()
	}
	if applied != n || len(wrong) > 0 {
		t.Errorf("%d reversals applied (want %d); %d answers neither accepted nor duplicate, e.g. %v", applied, n, len(wrong), wrong[:min(3, len(wrong))])
	}
}

// crashUnderBatch: the run — 6,000 accruals, then 6,000 reversals, Postgres gone part-way.
func crashUnderBatch(t *testing.T, c *cluster, s *server) {
	const n = 6000
	accruals, reversals := make([]string, n), make([]string, n)
	for i := range n {
		accruals[i] = fmt.Sprintf(`{"id":"cr-%d","phone":"+7916200%04d","category":"mobile","amount":"500.00","occurred_at":"%s"}`, i, i%1000, recent())
		reversals[i] = fmt.Sprintf(`{"id":"cr-rev-%d","reverses":"cr-%d","occurred_at":"%s"}`, i, i, recent())
	}
	if r := s.accrue(events(accruals)); r.Accepted != n {
		t.Fatalf("accruals: %+v", r)
	}
	type answer struct {
		status int
		text   string
	}
	answered := make(chan answer, 1)
	go func() {
		status, text := s.post("/api/v1/accruals", events(reversals))
		answered <- answer{status, text}
	}()
	watch := c.pool("bonusbot")
	for applied := 0; applied == 0; { // crash once the batch is part-way, not before
		if err := watch.QueryRow(context.Background(), `SELECT count(*) FROM billing_events WHERE id LIKE 'cr-rev-%'`).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		select {
		case a := <-answered:
			t.Fatalf("the batch of reversals ended before the crash (%d %s); make it bigger", a.status, tail([]byte(a.text), 200))
		default:
		}
	}
	c.crash()
	a := <-answered
	if a.status != http.StatusInternalServerError || !strings.Contains(a.text, "internal_error") {
		t.Errorf("batch with Postgres gone part-way = %d %s, want 500 for the whole batch", a.status, tail([]byte(a.text), 300))
	}
	c.start()
	s.waitReady(time.Minute)
	// Billing resends a batch that got 500. Connections that died with the old server may fail the
	// first tries; each failure is again a 500 for the whole batch, never a refusal.
	var r batchResult
	for attempt := 1; ; attempt++ {
		status, text := s.post("/api/v1/accruals", events(reversals))
		if status == http.StatusOK {
			if err := json.Unmarshal([]byte(text), &r); err != nil {
				t.Fatal(err)
			}
			t.Logf("resend %d answered 200", attempt)
			break
		}
		t.Logf("resend %d answered %d", attempt, status)
		if status != http.StatusInternalServerError || attempt == 5 {
			t.Fatalf("resend %d after the restart = %d %s, want 200 (or 500 while connections recover)", attempt, status, tail([]byte(text), 300))
		}
	}
	if r.Accepted+r.Duplicates != n || len(r.Rejected) != 0 || r.Duplicates == 0 {
		t.Errorf("resent reversals: %d accepted, %d duplicates, %d rejected; want %d in all, some duplicates, none rejected",
			r.Accepted, r.Duplicates, len(r.Rejected), n)
	}
	ledgertest.CheckInvariants(t, watch)
	t.Logf("crash after part of the batch: first answer %d; resend %d accepted, %d duplicates", a.status, r.Accepted, r.Duplicates)
}

// frozen: SIGSTOP every Postgres process; requests end at their deadlines, readiness fails, and SIGTERM
// with a batch in flight exits 0 within Kubernetes' default grace period of 30 s. It runs a serve of
// its own with short deadlines, so the test does not wait the default ones out.
func frozen(t *testing.T, c *cluster, _ *server) {
	s := startServe(t, c, "INGEST_TIMEOUT=3s", "REQUEST_TIMEOUT=3s")
	waitRiverLeader(t, c.pool("bonusbot")) // the freeze must hit a server that has fully started
	c.freeze()
	defer c.thaw()
	if status, text := s.get("/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(text, `"postgres":"unavailable"`) {
		t.Errorf("/readyz with Postgres frozen = %d %s, want 503 naming postgres", status, text)
	}
	batch := events([]string{`{"id":"fz-1","phone":"+79160000009","category":"mobile","amount":"500.00","occurred_at":"` + recent() + `"}`})
	if status, text := s.post("/api/v1/accruals", batch); status != http.StatusInternalServerError {
		t.Errorf("batch with Postgres frozen = %d %s, want 500 at INGEST_TIMEOUT", status, text)
	}
	if status, text := s.get("/api/v1/accounts/%2B79160000002"); status != http.StatusInternalServerError {
		t.Errorf("lookup with Postgres frozen = %d %s, want 500 at REQUEST_TIMEOUT", status, text)
	}
	inFlight := make(chan int, 1)
	go func() {
		status, _ := s.post("/api/v1/accruals", batch)
		inFlight <- status
	}()
	start := time.Now()
	if code := s.terminate(30 * time.Second); code != 0 {
		t.Errorf("serve after SIGTERM with Postgres frozen exited %d, want 0", code)
	}
	t.Logf("serve exited %v after SIGTERM, Postgres frozen", time.Since(start).Round(100*time.Millisecond))
	<-inFlight // answered or cut off; it ends either way
}

// waitRiverLeader waits until the gift-notice queue (River) of a serve has started and elected a
// leader: serve is ready before that, and a freeze in between would test start-up, not serving.
func waitRiverLeader(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.After(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var leaders int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM river_leader WHERE expires_at > now()`).Scan(&leaders)
		if err == nil && leaders > 0 {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("faults: no River leader after a minute (last error: %v)", err)
		case <-tick.C:
		}
	}
}

// recent is an occurred_at an hour ago: live, and never in the future.
func recent() string { return time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) }
