package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

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
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	rdb, err := openRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	ch, err := newChannels(ctx, cfg, log, pool, rdb)
	if err != nil {
		return err
	}
	store := ch.attach(pool) // its gifts enqueue notices to the recipient

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readyz(store, rdb))
	mux.Handle("/api/v1/", ingest.New(store, cfg.IngestToken, log, ingest.Options{Workers: max(1, int(pool.Config().MaxConns)/2)}))
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
