package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestNames keeps the Prometheus conventions: bonusbot_ names, counters end in _total, histograms
// measure _seconds.
func TestNames(t *testing.T) {
	t.Parallel()
	Updates.WithLabelValues("message", "ok").Inc() // a vector without children is not gathered
	UpdateSeconds.WithLabelValues("message").Observe(0.01)
	families, err := Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		name := f.GetName()
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		switch {
		case !strings.HasPrefix(name, "bonusbot_"):
			t.Errorf("%s: want the bonusbot_ prefix", name)
		case f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total"):
			t.Errorf("%s: a counter's name ends in _total", name)
		case f.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds"):
			t.Errorf("%s: latency histograms are in _seconds", name)
		}
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	pool := Pool(func() PoolStats {
		return PoolStats{Acquired: 2, Idle: 3, Total: 5, Max: 20, Acquires: 7, AcquireWait: 1500 * time.Millisecond}
	})
	sweep := time.Date(2026, 3, 14, 21, 5, 0, 0, time.UTC)
	db := Database(func(context.Context) (DBState, error) {
		return DBState{Queues: []QueueCount{{"default", "available", 4}}, LastSweep: sweep, SupportPending: 3, SupportFailed: 1,
			SupportOldest: sweep}, nil
	})
	SMS.WithLabelValues("sent").Inc()
	body := scrape(t, Handler(pool, db))
	for _, want := range []string{
		`bonusbot_pg_pool_connections{state="acquired"} 2`,
		`bonusbot_pg_pool_max_connections 20`,
		`bonusbot_pg_pool_acquire_wait_seconds_total 1.5`,
		`bonusbot_river_queue_jobs{queue="default",state="available"} 4`,
		`bonusbot_expiry_sweep_last_success_timestamp_seconds 1.7735223e+09`,
		`bonusbot_metrics_db_up 1`,
		`bonusbot_support_outbox_posts{state="pending"} 3`,
		`bonusbot_support_outbox_posts{state="failed"} 1`,
		`bonusbot_support_outbox_oldest_pending_timestamp_seconds 1.7735223e+09`,
		`bonusbot_sms_sends_total{outcome="sent"}`,
		`go_goroutines`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	down := Database(func(context.Context) (DBState, error) { return DBState{}, errors.New("down") })
	if body := scrape(t, Handler(down)); !strings.Contains(body, "bonusbot_metrics_db_up 0") || strings.Contains(body, "bonusbot_river_queue_jobs") {
		t.Errorf("with the database down /metrics should say db_up 0 and nothing else of it:\n%s", body)
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
