package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/ledger"
)

func runMigrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	pool.Close()
	log.Info("migrations applied")
	return nil
}

// openMigrated connects (creating the database if missing) and brings the schema up to date.
func openMigrated(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pool, err := ledger.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := ledger.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
