package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
	"bonusbot/ledger/ingest"
)

func runServe(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	console := fs.Bool("console", false, "also chat with the bot in this terminal (stdin/stdout)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log.Info("starting", "config", cfg, "version", version)
	if cfg.IngestToken == "" {
		log.Warn("INGEST_TOKEN is empty: the ingest API refuses every call")
	}
	svc, err := openServices(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.close()
	pool, rdb, ch, store := svc.pool, svc.rdb, svc.ch, svc.store

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readyz(store, rdb))
	mux.Handle("/api/v1/", ingest.New(store, cfg.IngestToken, log, ingest.Options{Workers: max(1, int(pool.Config().MaxConns)/2)}))
	app := ch.miniApp(store)
	mux.Handle("/app/", app)
	mux.Handle("/app", app)
	mux.Handle("/api/miniapp/", app)
	if cfg.MiniAppDev {
		log.Warn("MINIAPP_DEV: the Mini App opens any member's account without a signature (development only)",
			"try", "http://localhost:"+port(cfg.HTTPAddr)+"/app/?dev_user=+79160000001")
	}
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go sweepNightly(ctx, store, log)
	botDone := make(chan error, 1)
	go func() {
		err := ch.run(ctx, store, *console)
		cancel() // a channel that cannot run stops the server rather than leave it half up
		botDone <- err
	}()
	return errors.Join(serveHTTP(ctx, srv, log), <-botDone)
}

// services are what serve and chat run on: the migrated database, Redis, and the channels with the
// ledger they drive (whose gifts enqueue notices to the recipient).
type services struct {
	pool  *pgxpool.Pool
	rdb   *redis.Client
	ch    *channels
	store *ledger.Store
}

func openServices(ctx context.Context, cfg Config, log *slog.Logger) (*services, error) {
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rdb, err := openRedis(cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	ch, err := newChannels(ctx, cfg, log, pool, rdb)
	if err != nil {
		rdb.Close()
		pool.Close()
		return nil, err
	}
	return &services{pool: pool, rdb: rdb, ch: ch, store: ch.attach(pool)}, nil
}

func (s *services) close() {
	s.rdb.Close()
	s.pool.Close()
}

func openRedis(cfg Config) (*redis.Client, error) {
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("config: REDIS_URL: %w", err)
	}
	return redis.NewClient(opt), nil
}

// readyz answers 200 only while both Postgres and Redis answer, so a balancer stops sending traffic otherwise.
func readyz(store *ledger.Store, rdb *redis.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := store.Pool().Ping(ctx); err != nil {
			http.Error(w, "postgres: unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			http.Error(w, "redis: unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr) // Load checked it
	return p
}

// serveHTTP runs srv until ctx ends, then drains in-flight requests.
func serveHTTP(ctx context.Context, srv *http.Server, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("http listening", "addr", srv.Addr)
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
