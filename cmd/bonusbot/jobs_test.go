package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/bot/notify"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

func TestLoadJobs(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if j := c.Jobs; !j.Warnings || j.SMSWarnings || j.WarnHours.String() != "10:00-20:00" || j.FulfilmentURL != "" || j.FulfilmentTimeout != 10*time.Second {
		t.Errorf("defaults = %+v", j)
	}
	c, err = Load(env(map[string]string{"WARN_HOURS": "00:00-24:00", "SMS_WARNINGS": "true", "FULFILMENT_URL": "https://partner.example/orders",
		"FULFILMENT_TOKEN": "s3cret"}))
	if err != nil || !c.Jobs.WarnHours.AlwaysOpen() || !c.Jobs.SMSWarnings || c.Jobs.FulfilmentURL == "" {
		t.Errorf("Load = %+v, %v", c.Jobs, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", c)
	if strings.Contains(buf.String(), "s3cret") || !strings.Contains(buf.String(), `"fulfilment_token":"<redacted>"`) {
		t.Errorf("the start-up line shows the partner's token: %s", buf.String())
	}
	for name, value := range map[string]string{
		"EXPIRY_WARNINGS":    "sometimes",
		"SMS_WARNINGS":       "2",
		"WARN_HOURS":         "10-20",
		"FULFILMENT_URL":     "ftp://partner",
		"FULFILMENT_TIMEOUT": "5m",
	} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load(%s=%q) = %v, want an error naming %s", name, value, err, name)
		}
	}
}

// TestProbe: probe exits 0 only when its own server's /readyz answers 200.
func TestProbe(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" && r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"postgres":"ok"}`)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	cfg, err := Load(env(map[string]string{"HTTP_ADDR": ":" + port}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runProbe(context.Background(), cfg, nil, &out); err != nil || !strings.Contains(out.String(), "200 OK") {
		t.Errorf("probe of a ready server = %v, %q", err, out.String())
	}
	status = http.StatusServiceUnavailable
	if err := runProbe(context.Background(), cfg, []string{"--path", "/healthz"}, io.Discard); err == nil {
		t.Error("probe of a 503 succeeded")
	}
	cfg.HTTPAddr = "127.0.0.1:1" // nothing listens
	if err := runProbe(context.Background(), cfg, nil, io.Discard); err == nil {
		t.Error("probe with no server succeeded")
	}
}

// TestMetricsEndpoint: /metrics shows the pool, River's backlog and the last sweep, next to the
// process's own metrics.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	clock := ledgertest.NewClock(time.Date(2026, 3, 15, 0, 5, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	if err := notify.Migrate(context.Background(), store.Pool()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SweepDay(context.Background()); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { rdb.Close() })
	srv := newHTTPServer(cfg, slog.New(slog.DiscardHandler), store, rdb, http.NotFoundHandler())
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"bonusbot_metrics_db_up 1", "bonusbot_pg_pool_max_connections 20", "bonusbot_expiry_sweep_last_success_timestamp_seconds 1.7735223e+09", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestLoggerRedactsOutsideDevelopment: with a real platform configured, phones and codes never reach
// the log; in development they do.
func TestLoggerRedactsOutsideDevelopment(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	prod, err := Load(env(map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "CODE_SECRET": secret, "SMS_GATEWAY_URL": "https://sms.example"}))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	line := func(cfg Config) map[string]any {
		var buf bytes.Buffer
		newLogger(cfg, &buf).Info("sms", "to", "+79161234567", "code", "4321", "chat_id", int64(42))
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if p := line(prod); p["to"] != "+7916***67" || p["code"] != "<redacted>" || p["chat_id"] == float64(42) {
		t.Errorf("production line = %v", p)
	}
	if d := line(dev); d["to"] != "+79161234567" || d["code"] != "4321" {
		t.Errorf("development line = %v", d)
	}
}
