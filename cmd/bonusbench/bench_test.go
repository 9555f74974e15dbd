package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"bonusbot/ledger/ledgertest"
)

// TestLedgerBenchSmoke runs every ledger benchmark on a tiny dataset, so `make bench` keeps working:
// each step must succeed (the tool checks the import accepted everything and the sweep burnt every due
// lot) and report a positive rate.
func TestLedgerBenchSmoke(t *testing.T) {
	t.Parallel()
	url := strings.Replace(ledgertest.DatabaseURL(), "/bonusbot_test", fmt.Sprintf("/bonusbench_smoke_%d", os.Getpid()), 1)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin := cfg.Copy()
		admin.Database = "postgres"
		conn, err := pgx.ConnectConfig(context.Background(), admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	out := filepath.Join(t.TempDir(), "results.json")
	args := []string{"-db", url, "-accounts", "300", "-lots", "3", "-workers", "4", "-duration", "400ms", "-pgbench=false", "-out", out}
	if err := runLedgerBench(t.Context(), args); err != nil {
		t.Fatalf("bonusbench %v: %v", args, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Op] = true
		if r.OpsPerSec <= 0 {
			t.Errorf("%s: %v ops/s", r.Op, r.OpsPerSec)
		}
	}
	for _, op := range []string{"csv_copy", "csv_import", "http_ingest", "transfer", "redeem", "balance_read", "forecast_read", "expiry_sweep"} {
		if !seen[op] {
			t.Errorf("no result for %s in %s", op, b)
		}
	}
}
