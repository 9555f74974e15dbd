package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/ledger"
)

type benchConfig struct {
	databaseURL    string
	accounts       int
	lotsPerAccount int
	workers        int
	duration       time.Duration
	out            string
	pgbench        bool
}

func runLedgerBench(ctx context.Context, args []string) error {
	var c benchConfig
	fs := flag.NewFlagSet("bonusbench", flag.ContinueOnError)
	fs.StringVar(&c.databaseURL, "db", "postgres://root@127.0.0.1:5432/bonusbot_bench?sslmode=disable", "benchmark database (dropped and recreated)")
	fs.IntVar(&c.accounts, "accounts", 100_000, "accounts in the dataset")
	fs.IntVar(&c.lotsPerAccount, "lots", 10, "lots per account (events in the import)")
	fs.IntVar(&c.workers, "workers", 16, "concurrent workers for transfers and redemptions")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long each timed benchmark runs")
	fs.StringVar(&c.out, "out", "bench-results.json", "results file")
	fs.BoolVar(&c.pgbench, "pgbench", true, "run pgbench tpcb-like on the same server for the ratio")
	quick := fs.Bool("quick", false, "a small dataset and short runs, to check the tool itself")
	importOnly := fs.Bool("import-only", false, "only the CSV import and its COPY baseline")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		c.accounts, c.duration = 5_000, 3*time.Second
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	pool, err := freshDatabase(ctx, c.databaseURL, c.workers+4)
	if err != nil {
		return err
	}
	defer pool.Close()
	now := time.Now()
	store := ledger.NewStore(pool, ledger.Options{GiftLimits: &ledger.GiftLimits{}})
	b := &bench{cfg: c, store: store, pool: pool, now: now, log: log}

	var results []Result
	steps := []func(context.Context) ([]Result, error){
		b.importCSV, b.httpIngest, b.transfers, b.redemptions, b.reads, b.pgbenchTPCB, b.sweep,
	}
	if *importOnly {
		steps = steps[:1]
	}
	for _, step := range steps {
		rs, err := step(ctx)
		if err != nil {
			return err
		}
		results = append(results, rs...)
		for _, r := range rs {
			log.Info("measured", "op", r.Op, "ops_per_sec", int(r.OpsPerSec), "p50_ms", r.P50ms, "p99_ms", r.P99ms)
		}
	}
	printTable(os.Stdout, results)
	printRatio(results)
	return writeJSON(c.out, results)
}

type bench struct {
	cfg   benchConfig
	store *ledger.Store
	pool  *pgxpool.Pool
	now   time.Time
	log   *slog.Logger
	ids   []int64 // ids[i] is the account of phoneOf(i)
}

// loadAccounts maps the dataset's phones to the account ids the import gave them.
func (b *bench) loadAccounts(ctx context.Context) error {
	b.ids = make([]int64, b.cfg.accounts)
	rows, err := b.pool.Query(ctx, `SELECT phone, account_id FROM phones`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var phone string
		var id int64
		if err := rows.Scan(&phone, &id); err != nil {
			return err
		}
		var i int
		if _, err := fmt.Sscanf(phone, "+7900%07d", &i); err == nil && i < len(b.ids) {
			b.ids[i] = id
		}
	}
	return rows.Err()
}

func phoneOf(i int) string { return fmt.Sprintf("+7900%07d", i) }

// freshDatabase drops and recreates the benchmark database so every run starts alike.
func freshDatabase(ctx context.Context, url string, conns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	admin := cfg.ConnConfig.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	name := pgx.Identifier{cfg.ConnConfig.Database}.Sanitize()
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	}
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("recreate %s: %w", name, err)
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := ledger.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// timed runs op on workers goroutines for d and returns how many succeeded, with latencies.
// An error other than a refusal stops the run.
func timed(ctx context.Context, workers int, d time.Duration, op func(ctx context.Context, worker int, rnd *rand.Rand) error) (int, time.Duration, *latencies, error) {
	var (
		count atomic.Int64
		lat   latencies
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	ctx, cancel := context.WithCancel(ctx) // the first error stops every worker
	defer cancel()
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			// Each worker finishes the op in hand at the deadline and counts it, and makes at least one,
			// so a slow machine reports a slow rate rather than none.
			for n := 0; ctx.Err() == nil && (n == 0 || time.Now().Before(deadline)); n++ {
				t0 := time.Now()
				if err := op(ctx, w, rnd); err != nil {
					first.CompareAndSwap(nil, &err)
					cancel()
					return
				}
				lat.add(time.Since(t0))
				count.Add(1)
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return 0, 0, nil, *e
	}
	return int(count.Load()), time.Since(start), &lat, nil
}

func (b *bench) transfers(ctx context.Context) ([]Result, error) {
	n := b.cfg.accounts
	count, elapsed, lat, err := timed(ctx, b.cfg.workers, b.cfg.duration, func(ctx context.Context, _ int, rnd *rand.Rand) error {
		from, to := rnd.IntN(n), rnd.IntN(n-1)
		if to >= from {
			to++
		}
		_, err := b.store.Gift(ctx, ledger.GiftRequest{From: b.ids[from], To: phoneOf(to), Points: 1})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("transfers: %w", err)
	}
	r := result("transfer", count, elapsed, lat)
	r.Note = fmt.Sprintf("%d workers, gift of 1 point, daily limits off", b.cfg.workers)
	return []Result{r}, nil
}

func (b *bench) redemptions(ctx context.Context) ([]Result, error) {
	if err := b.store.UpsertItems(ctx, []ledger.Item{{Code: "1", Category: "bench", TitleRU: "тест", TitleEN: "test", Cost: 1, Active: true}}); err != nil {
		return nil, err
	}
	n := b.cfg.accounts
	count, elapsed, lat, err := timed(ctx, b.cfg.workers, b.cfg.duration/2, func(ctx context.Context, _ int, rnd *rand.Rand) error {
		_, err := b.store.Redeem(ctx, ledger.RedeemRequest{AccountID: b.ids[rnd.IntN(n)], Code: "1"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redemptions: %w", err)
	}
	r := result("redeem", count, elapsed, lat)
	r.Note = fmt.Sprintf("%d workers", b.cfg.workers)
	return []Result{r}, nil
}

func (b *bench) reads(ctx context.Context) ([]Result, error) {
	const workers = 4
	n := b.cfg.accounts
	var out []Result
	for _, rd := range []struct {
		op string
		fn func(ctx context.Context, id int64) error
	}{
		{"balance_read", func(ctx context.Context, id int64) error { _, err := b.store.Balance(ctx, id); return err }},
		{"forecast_read", func(ctx context.Context, id int64) error { _, err := b.store.Forecast(ctx, id, 90); return err }},
	} {
		count, elapsed, lat, err := timed(ctx, workers, b.cfg.duration/2, func(ctx context.Context, _ int, rnd *rand.Rand) error {
			return rd.fn(ctx, b.ids[rnd.IntN(n)])
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rd.op, err)
		}
		r := result(rd.op, count, elapsed, lat)
		r.Note = fmt.Sprintf("%d workers", workers)
		out = append(out, r)
	}
	return out, nil
}

func (b *bench) sweep(ctx context.Context) ([]Result, error) {
	var due int64
	at := b.now.AddDate(1, 1, 0) // past every lot's date
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM lots WHERE expires_on < $1`, b.store.LocalDate(at)).Scan(&due); err != nil {
		return nil, err
	}
	start := time.Now()
	r, err := b.store.Expire(ctx, at, ledger.DefaultExpiryBatch)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	elapsed := time.Since(start)
	if r.Lots != due {
		return nil, fmt.Errorf("sweep: burnt %d lots, %d were due", r.Lots, due)
	}
	res := result("expiry_sweep", int(r.Lots), elapsed, nil)
	res.Note = fmt.Sprintf("%d lots, %d points, batches of %d", r.Lots, r.Points, ledger.DefaultExpiryBatch)
	return []Result{res}, nil
}

func printRatio(results []Result) {
	var transfer, tpcb float64
	for _, r := range results {
		switch r.Op {
		case "transfer":
			transfer = r.OpsPerSec
		case "pgbench_tpcb":
			tpcb = r.OpsPerSec
		case "csv_import":
			fmt.Printf("ratio import/copy: %.2f (%.2f rows written per event)\n", r.RatioToCopy, r.RowsPerOp)
		}
	}
	if tpcb > 0 {
		fmt.Printf("ratio transfer/pgbench_tpcb: %.2f\n", transfer/tpcb)
	}
}
