package main

import (
	"bonusbot/ledger"
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// writeAccrualsCSV writes accounts×lots events, each account's on distinct days within the last 11
// months, so every event makes its own lot and none has expired yet.
func writeAccrualsCSV(w io.Writer, accounts, lots int, now time.Time) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintln(bw, "id,phone,category,amount,points,occurred_at")
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range accounts {
		for k := range lots {
			when := now.AddDate(0, 0, -(k*33 + i%30 + 1)).UTC().Format(time.RFC3339)
			rub := 100 + rnd.IntN(1900)
			fmt.Fprintf(bw, "g-%d-%d,%s,mobile,%d.00,,%s\n", i, k, phoneOf(i), rub, when)
		}
	}
	return bw.Flush()
}

func (b *bench) importCSV(ctx context.Context) ([]Result, error) {
	f, err := os.CreateTemp("", "bonusbench-*.csv")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := writeAccrualsCSV(f, b.cfg.accounts, b.cfg.lotsPerAccount, b.now); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	events := b.cfg.accounts * b.cfg.lotsPerAccount
	b.log.Info("importing", "events", events)
	start := time.Now()
	sum, err := importAccruals(ctx, b.store, f)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	elapsed := time.Since(start)
	if sum != events {
		return nil, fmt.Errorf("import: accepted %d of %d events", sum, events)
	}
	r := result("csv_import", events, elapsed, nil)
	r.Note = fmt.Sprintf("%d events into %d accounts, COPY + set-based SQL", events, b.cfg.accounts)
	if err := b.loadAccounts(ctx); err != nil {
		return nil, err
	}
	return []Result{r}, nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

// pgbenchTPCB runs pgbench's tpcb-like script on the same server, as the yardstick for transfers.
func (b *bench) pgbenchTPCB(ctx context.Context) ([]Result, error) {
	if !b.cfg.pgbench {
		return nil, nil
	}
	if _, err := exec.LookPath("pgbench"); err != nil {
		b.log.Warn("pgbench not found; no ratio")
		return nil, nil
	}
	cc := b.pool.Config().ConnConfig
	base := []string{"-h", cc.Host, "-p", strconv.Itoa(int(cc.Port)), "-U", cc.User}
	db := "bonusbot_pgbench"
	b.pool.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	if _, err := b.pool.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return nil, fmt.Errorf("pgbench: %w", err)
	}
	defer b.pool.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	if out, err := exec.CommandContext(ctx, "pgbench", append(base, "-i", "-q", "-s", "16", db)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	secs := strconv.Itoa(max(1, int(b.cfg.duration.Seconds())))
	out, err := exec.CommandContext(ctx, "pgbench", append(base, "-c", "16", "-j", "2", "-T", secs, db)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("pgbench: no tps in output: %s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	return []Result{{Op: "pgbench_tpcb", OpsPerSec: tps, Note: "pgbench -c 16 -j 2 -T " + secs + " (tpcb-like, scale 16)"}}, nil
}

func importAccruals(ctx context.Context, store *ledger.Store, r io.Reader) (int, error) {
	sum, err := store.ImportAccruals(ctx, r, nil)
	if err != nil {
		return 0, err
	}
	if len(sum.Rejected) > 0 {
		return 0, fmt.Errorf("%d rows refused, first: %v", len(sum.Rejected), sum.Rejected[0])
	}
	return sum.Accepted, nil
}
