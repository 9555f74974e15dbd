package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultMaxConns is the pool size when DATABASE_URL does not set pool_max_conns.
const defaultMaxConns = 20

// defaultConnectTimeout bounds a new connection when DATABASE_URL does not set connect_timeout: with
// none, a Postgres host that drops packets holds every caller for the kernel's TCP timeout (minutes).
const defaultConnectTimeout = 5 * time.Second

// Statement timeouts by class of work. Every transaction starts with interactiveTimeout, which bounds
// what a subscriber or support waits for (a bot reply, a gift, an account lookup); bulk work — a chunk
// of a batch or an import, a sweep batch — raises it for its own transaction (setBulkTimeout). Either
// way a statement that waits for a lock or a frozen server gives up, and its transaction rolls back,
// instead of holding a connection and its locks until someone notices.
const (
	interactiveTimeout = 2 * time.Second
	bulkTimeout        = 2 * time.Minute
)

// beginInteractive begins every transaction, with its statement timeout, in one round trip.
var beginInteractive = fmt.Sprintf("BEGIN; SET LOCAL statement_timeout = %d", interactiveTimeout.Milliseconds())

// setBulkTimeout raises tx's statement timeout to bulkTimeout, until tx ends.
func setBulkTimeout(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", bulkTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("statement timeout: %w", err)
	}
	return nil
}

// Connect opens a pool to databaseURL, creating the database first if it does not exist yet
// (so `bonusbot migrate` works on a fresh server).
func Connect(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("ledger: connect: %w", err)
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		// pgxpool's default (max(4, cores)) starves a bot whose every update reads the ledger while
		// ingest batches and gift commits hold connections; pool_max_conns in the URL overrides this.
		cfg.MaxConns = defaultMaxConns
	}
	if !strings.Contains(databaseURL, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if err := ensureDatabase(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ledger: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ledger: connect: %w", err)
	}
	return pool, nil
}

func ensureDatabase(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name: no such database
		return fmt.Errorf("ledger: connect: %w", err)
	}
	admin := cc.Copy()
	admin.Database = "postgres"
	conn, err = pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("ledger: connect to create %q: %w", cc.Database, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cc.Database}.Sanitize())
	if err != nil && !isCode(err, "42P04") { // duplicate_database: another process won the race
		return fmt.Errorf("ledger: create database %q: %w", cc.Database, err)
	}
	return nil
}

// errRetry asks withTx to run the transaction again: a concurrent writer got there first and the
// fresh run will see what it wrote.
var errRetry = errors.New("concurrent write, retry")

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// withTx is the only code in ledger that begins, commits or rolls back. It retries the whole
// function on serialization failures and deadlocks, which Postgres asks the client to retry. Each
// statement in it may take interactiveTimeout unless fn raises that (setBulkTimeout).
func withTx[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		v, err := runTx(ctx, pool, fn)
		if err == nil {
			return v, nil
		}
		if attempt < 5 && (isCode(err, "40001") || isCode(err, "40P01") || errors.Is(err, errRetry)) {
			select {
			case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
				continue
			case <-ctx.Done():
				return zero, fmt.Errorf("retry: %w", ctx.Err())
			}
		}
		return zero, err
	}
}

func runTx[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginInteractive})
	if err != nil {
		return zero, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit; still runs if ctx timed out
	v, err := fn(tx)
	if err != nil {
		return zero, err
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, fmt.Errorf("commit: %w", err)
	}
	return v, nil
}
