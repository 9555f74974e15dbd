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

// importCSV imports the dataset with ImportAccruals and, on the same server within the same run, times
// a plain COPY of the same CSV rows over one connection into a bare table with a text primary key: the
// physical floor of storing each event once with its id. The COPY runs once before the import and once
// after, and the ratio takes their mean, so a machine that speeds up or slows down during the run
// (another job starting or ending) moves both sides alike. Each starts after a checkpoint, so none pays
// for another's dirty pages.
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
	events := b.cfg.accounts * b.cfg.lotsPerAccount
	before, err := b.copyBaseline(ctx, f, events)
	if err != nil {
		return nil, fmt.Errorf("copy baseline: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := b.pool.Exec(ctx, "CHECKPOINT"); err != nil {
		return nil, err
	}
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
	after, err := b.copyBaseline(ctx, f, events)
	if err != nil {
		return nil, fmt.Errorf("copy baseline: %w", err)
	}
	floor := before
	floor.OpsPerSec = (before.OpsPerSec + after.OpsPerSec) / 2
	floor.Note = fmt.Sprintf("%s; mean of %.0f before and %.0f after the import", floor.Note, before.OpsPerSec, after.OpsPerSec)
	var rows int64
	if err := b.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM billing_events) + (SELECT count(*) FROM journal_lines) +
		(SELECT count(*) FROM lots) + (SELECT count(*) FROM accounts) + (SELECT count(*) FROM phones)`).Scan(&rows); err != nil {
		return nil, err
	}
	r := result("csv_import", events, elapsed, nil)
	r.RowsPerOp = float64(rows) / float64(events)
	r.RatioToCopy = r.OpsPerSec / floor.OpsPerSec
	r.Note = fmt.Sprintf("%d events into %d accounts, %.2f rows written per event; ratio import/copy %.2f",
		events, b.cfg.accounts, r.RowsPerOp, r.RatioToCopy)
	if err := b.loadAccounts(ctx); err != nil {
		return nil, err
	}
	return []Result{floor, r}, nil
}

// copyBaseline COPYs the CSV file f (header first) into a fresh bare table and drops it again.
func (b *bench) copyBaseline(ctx context.Context, f *os.File, rows int) (Result, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Result{}, err
	}
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS copy_baseline;
		CREATE TABLE copy_baseline (id text PRIMARY KEY, phone text, category text, amount numeric, points bigint, occurred_at timestamptz);
		CHECKPOINT`); err != nil {
		return Result{}, err
	}
	b.log.Info("copying", "rows", rows)
	start := time.Now()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, f, `COPY copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)`)
	if err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	if tag.RowsAffected() != int64(rows) {
		return Result{}, fmt.Errorf("copied %d of %d rows", tag.RowsAffected(), rows)
	}
	if _, err := conn.Exec(ctx, `DROP TABLE copy_baseline`); err != nil {
		return Result{}, err
	}
	r := result("csv_copy", rows, elapsed, nil)
	r.Note = "the same CSV rows, plain COPY over one connection into (id text PRIMARY KEY, ...)"
	return r, nil
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
