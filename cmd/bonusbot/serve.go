package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

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
	srv := newHTTPServer(cfg, log, svc.store, svc.rdb, svc.ch.miniApp(svc.store))
	if cfg.MiniAppDev {
		log.Warn("MINIAPP_DEV: the Mini App opens any member's account without a signature (development only)",
			"try", "http://localhost:"+port(cfg.HTTPAddr)+"/app/?dev_user=+79160000001")
	}
	if inflight, conns := cfg.IngestMaxInflight, int(svc.pool.Config().MaxConns); inflight > conns/2 {
		log.Warn("INGEST_MAX_INFLIGHT is over half the Postgres pool: batches may starve the bot", "ingest_max_inflight", inflight, "pool_max_conns", conns)
	}
	// Each part runs until ctx ends (SIGTERM) and then finishes what it has in hand within
	// SHUTDOWN_GRACE; a part that stops by itself stops the others, rather than leave the service
	// half up. runServe returns once all have returned.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error {
		defer cancel()
		return svc.ch.run(ctx, svc.store, *console)
	})
	g.Go(func() error {
		defer cancel()
		return serveHTTP(ctx, srv, cfg.ShutdownGrace, log)
	})
	return g.Wait()
}

// HTTP server limits. Deadlines of the requests themselves are REQUEST_TIMEOUT and INGEST_TIMEOUT.
const (
	readHeaderTimeout = 5 * time.Second  // a client that trickles its headers is cut off
	readTimeout       = 30 * time.Second // the whole request, an 8 MB batch included, even over a slow link
	idleTimeout       = 30 * time.Second // an idle keep-alive connection is closed, authenticated or not
)

// newHTTPServer serves /healthz, /readyz, /metrics, the ingest API and the Mini App (app) on HTTP_ADDR.
func newHTTPServer(cfg Config, log *slog.Logger, store *ledger.Store, rdb redis.UniversalClient, app http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readyz(store.Pool(), rdb, log))
	mux.Handle("GET /metrics", metricsHandler(store))
	mux.Handle("/api/v1/", ingest.New(observedStore{store}, cfg.IngestToken, log, ingest.Options{
		MaxInflight: cfg.IngestMaxInflight, Timeout: cfg.RequestTimeout, BatchTimeout: cfg.IngestTimeout}))
	app = withDeadline(app, cfg.RequestTimeout) // the ingest API sets its own, by kind of request
	mux.Handle("/app/", app)
	mux.Handle("/app", app)
	mux.Handle("/api/miniapp/", app)
	return &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		// Longer than any request's own deadline, so the answer to a request that ran to it (a 500
		// billing will resend) still reaches the client.
		WriteTimeout: max(cfg.RequestTimeout, cfg.IngestTimeout) + 5*time.Second,
		IdleTimeout:  idleTimeout,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// withDeadline gives every request to next a server-side deadline d, so a slow database or Redis
// ends it with an answer instead of holding a goroutine and a connection until the client gives up.
func withDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// services are what serve and chat run on: the migrated database, Redis, and the channels with the
// ledger they drive (whose gifts enqueue notices to the recipient).
type services struct {
	pool  *pgxpool.Pool
	rdb   redis.UniversalClient
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

// close waits for gifts still committing (their callers may have been cancelled at shutdown), then
// closes Redis and the pool.
func (s *services) close() {
	s.store.Close()
	s.rdb.Close()
	s.pool.Close()
}

// openRedis connects to one Redis (REDIS_URL) or to a Redis Cluster (REDIS_ADDRS, with REDIS_URL's
// credentials, TLS and timeouts). Every multi-key command and script of bonusbot keeps its keys in one
// hash slot, so both work alike.
func openRedis(cfg Config) (redis.UniversalClient, error) {
	// A Redis that is down or frozen costs a bot reply two seconds, not go-redis's default of five
	// dials of 5 s each; the caller's deadline applies too. REDIS_URL's own settings win
	// (dial_timeout, read_timeout, write_timeout).
	if len(cfg.RedisAddrs) > 0 {
		opt, err := redis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("config: REDIS_URL: %w", err)
		}
		opt.Addrs = cfg.RedisAddrs
		opt.DialTimeout = cmp.Or(opt.DialTimeout, 2*time.Second)
		opt.ReadTimeout = cmp.Or(opt.ReadTimeout, 2*time.Second)
		opt.WriteTimeout = cmp.Or(opt.WriteTimeout, 2*time.Second)
		opt.DialerRetries = cmp.Or(opt.DialerRetries, 1)
		opt.ContextTimeoutEnabled = true
		return redis.NewClusterClient(opt), nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("config: REDIS_URL: %w", err)
	}
	opt.DialTimeout = cmp.Or(opt.DialTimeout, 2*time.Second)
	opt.ReadTimeout = cmp.Or(opt.ReadTimeout, 2*time.Second)
	opt.WriteTimeout = cmp.Or(opt.WriteTimeout, 2*time.Second)
	opt.DialerRetries = cmp.Or(opt.DialerRetries, 1)
	opt.ContextTimeoutEnabled = true
	return redis.NewClient(opt), nil
}

// readiness is /readyz's answer: each dependency, "ok" or "unavailable".
type readiness struct {
	Postgres string `json:"postgres"`
	Redis    string `json:"redis"`
}

// readyz reports Postgres and Redis separately and fails (503) only without Postgres, which
// everything this process serves needs. Without Redis the ingest API still works, and the bot answers
// each message with an apology to try again in a minute, so a Redis blip must not take every replica
// out of the load balancer at once.
func readyz(pool *pgxpool.Pool, rdb redis.UniversalClient, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var pgErr, redisErr error
		var wg sync.WaitGroup
		wg.Go(func() { pgErr = pool.Ping(ctx) })
		wg.Go(func() { redisErr = rdb.Ping(ctx).Err() })
		wg.Wait()
		state := func(err error) string {
			if err != nil {
				return "unavailable"
			}
			return "ok"
		}
		resp, status := readiness{Postgres: state(pgErr), Redis: state(redisErr)}, http.StatusOK
		if pgErr != nil {
			status = http.StatusServiceUnavailable
		}
		if pgErr != nil || redisErr != nil {
			log.WarnContext(ctx, "not fully ready", "postgres_err", pgErr, "redis_err", redisErr)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(resp) // the status is already sent; a write error means the prober left
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr) // Load checked it
	return p
}

// serveHTTP runs srv until ctx ends, then drains: requests in flight get grace to finish, then their
// contexts are cancelled and their connections closed, so a frozen database never holds up the exit.
func serveHTTP(ctx context.Context, srv *http.Server, grace time.Duration, log *slog.Logger) error {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	return serveOn(ctx, srv, ln, grace, log)
}

// answerAfterCancel is how long requests cancelled at the end of the grace period get to send their
// answer before their connections are closed; it adds to SHUTDOWN_GRACE, within Kubernetes' 30 s.
const answerAfterCancel = 2 * time.Second

func serveOn(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, log *slog.Logger) error {
	base, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv.BaseContext = func(net.Listener) context.Context { return base }
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("http listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http: requests still running after the grace period; cancelling them", "grace", grace.String())
		cancelRequests()
		// A cancelled request answers at once (an ingest batch: 500, safe to resend); give it the moment
		// to, rather than leave billing a connection closed with no answer.
		answerCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerAfterCancel)
		defer cancel()
		if err := srv.Shutdown(answerCtx); err != nil {
			if err := srv.Close(); err != nil {
				log.Warn("http: close", "err", err)
			}
		}
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	log.Info("stopped")
	return nil
}
