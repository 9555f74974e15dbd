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
// function on serialization failures and deadlocks, which Postgres asks the client to retry.
func withTx[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		v, err := runTx(ctx, pool, fn)
		if err == nil {
			return v, nil
		}
		if attempt < 5 && (isCode(err, "40001") || isCode(err, "40P01") || errors.Is(err, errRetry)) {
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		return zero, err
	}
}

func runTx[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := pool.Begin(ctx)
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
