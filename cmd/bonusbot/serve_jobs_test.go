package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"bonusbot/ledger/ledgertest"
)

// TestServeSweepsOnStart runs `bonusbot serve` on a schema of its own: River's leader runs the day's
// expiry sweep at once (RunOnStart), /metrics shows it, probe finds the server ready, and SIGTERM (the
// context) stops it cleanly.
func TestServeSweepsOnStart(t *testing.T) {
	t.Parallel()
	pool := ledgertest.NewPool(t)
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sep := "?"
	if strings.Contains(ledgertest.DatabaseURL(), "?") {
		sep = "&"
	}
	vars := map[string]string{"DATABASE_URL": ledgertest.DatabaseURL() + sep + "search_path=" + schema, "HTTP_ADDR": addr, "BOT_MODE": "off"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve = %v, want a clean stop", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("serve did not stop within 60 s of its context ending")
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		if body := get(addr, "/metrics"); strings.Contains(body, "bonusbot_metrics_db_up 1") &&
			!strings.Contains(body, "bonusbot_expiry_sweep_last_success_timestamp_seconds 0\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished sweep in /metrics within 60 s:\n%s", get(addr, "/metrics"))
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	cfg, err := Load(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := runProbe(ctx, cfg, nil, io.Discard); err != nil {
		t.Errorf("probe of a running serve = %v", err)
	}
	var runs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM expiry_sweeps WHERE finished_at IS NOT NULL`).Scan(&runs); err != nil || runs != 1 {
		t.Errorf("finished sweeps = %d, %v; want today's", runs, err)
	}
}

func get(addr, path string) string {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
