package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

// TestReadyz: readiness follows Postgres alone; Redis is reported, and its loss leaves the replica in
// the load balancer (ingest needs no Redis, the bot apologises per message).
func TestReadyz(t *testing.T) {
	t.Parallel()
	up, down := ledgertest.NewPool(t), ledgertest.NewPool(t)
	down.Close()
	redisUp := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	redisDown := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialerRetries: 1}) // nothing listens on port 1
	t.Cleanup(func() { redisUp.Close(); redisDown.Close() })
	tests := []struct {
		name   string
		pgUp   bool
		status int
		want   readiness
	}{
		{"both up", true, http.StatusOK, readiness{"ok", "ok"}},
		{"redis down", true, http.StatusOK, readiness{"ok", "unavailable"}},
		{"postgres down", false, http.StatusServiceUnavailable, readiness{"unavailable", "ok"}},
	}
	for _, tt := range tests {
		pool, rdb := up, redisUp
		if !tt.pgUp {
			pool = down
		}
		if tt.want.Redis != "ok" {
			rdb = redisDown
		}
		rec := httptest.NewRecorder()
		readyz(pool, rdb, slog.New(slog.DiscardHandler))(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var got readiness
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: /readyz body %q: %v", tt.name, rec.Body, err)
		}
		if rec.Code != tt.status || got != tt.want {
			t.Errorf("%s: /readyz = %d %+v, want %d %+v", tt.name, rec.Code, got, tt.status, tt.want)
		}
	}
}

// TestServeDrainsThenCancels: on shutdown a request in flight may finish within the grace period; one
// that would not (a frozen database) has its context cancelled, still gets its answer to the client
// (an ingest batch's 500, safe to resend), and serving ends cleanly.
func TestServeDrainsThenCancels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		grace     time.Duration
		finishes  bool // the handler ends on its own once shutdown starts
		wantCause error
	}{
		{"finishes within the grace period", time.Minute, true, nil},
		{"stuck past the grace period", time.Millisecond, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entered, release, handlerErr := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				select {
				case <-release:
					handlerErr <- nil
				case <-r.Context().Done():
					handlerErr <- r.Context().Err()
					http.Error(w, "cancelled", http.StatusInternalServerError) // as an ingest batch answers
				}
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- serveOn(ctx, srv, ln, tt.grace, slog.New(slog.DiscardHandler)) }()
			clientDone := make(chan struct{})
			status := 0 // what the client got: 0 for a connection closed with no answer
			go func() {
				defer close(clientDone)
				if resp, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
					status = resp.StatusCode
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			<-entered
			stop()
			if tt.finishes {
				close(release)
			}
			if err := <-served; err != nil {
				t.Errorf("serveOn = %v, want nil", err)
			}
			if err := <-handlerErr; !errors.Is(err, tt.wantCause) {
				t.Errorf("the request in flight ended with %v, want %v", err, tt.wantCause)
			}
			<-clientDone
			if want := map[bool]int{true: http.StatusOK, false: http.StatusInternalServerError}[tt.finishes]; status != want {
				t.Errorf("the client got %d, want %d (0: no answer)", status, want)
			}
		})
	}
}

// TestHTTPServerLimits: every connection is bounded in time, whoever holds it, and so is every Mini
// App request (the ingest API bounds its own: TestDeadlines there).
func TestHTTPServerLimits(t *testing.T) {
	t.Parallel()
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	store := ledgertest.NewStore(t, nil, ledger.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { rdb.Close() })
	var appDeadline time.Time
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { appDeadline, _ = r.Context().Deadline() })
	srv := newHTTPServer(cfg, slog.New(slog.DiscardHandler), store, rdb, app)
	srv.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/miniapp/me", nil))
	if appDeadline.IsZero() {
		t.Error("a Mini App request has no server-side deadline, want REQUEST_TIMEOUT")
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.WriteTimeout <= cfg.IngestTimeout {
		t.Errorf("server limits: header %v, read %v, idle %v, write %v; want all set, write beyond INGEST_TIMEOUT %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.WriteTimeout, cfg.IngestTimeout)
	}
}
