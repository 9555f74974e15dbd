package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"bonusbot/ledger"
)

// runExpire burns the lots whose date has passed as of --at (default now): the manual and backfill
// path beside serve's daily sweep job (bot/expiry), which records the dates it swept; this one records
// nothing. Safe to run while the server sweeps too: the ledger's sweep skips lots another sweep holds.
func runExpire(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("expire", flag.ContinueOnError)
	atFlag := fs.String("at", "", "burn as of this instant (RFC 3339), e.g. 2027-01-01T00:00:00+03:00; default now")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	at := time.Now()
	if *atFlag != "" {
		t, err := time.Parse(time.RFC3339, *atFlag)
		if err != nil {
			return fmt.Errorf("expire: --at: want RFC 3339 such as 2027-01-01T00:00:00+03:00: %w", err)
		}
		at = t
	}
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := ledger.NewStore(pool, ledger.Options{Location: cfg.Location, Expiry: cfg.Expiry})
	r, err := store.Expire(ctx, at, 0)
	if err != nil {
		return err
	}
	log.Info("expiry sweep done", "as_of", at.UTC(), "lots", r.Lots, "points", r.Points)
	fmt.Printf("burnt %d points in %d lots (as of %s)\n", r.Points, r.Lots, at.In(cfg.Location).Format(time.RFC3339))
	return nil
}
