package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"bonusbot/ledger"
)

// runExpire burns the lots whose date has passed as of --at (default now). Safe to run while the server
// sweeps too: the ledger's sweep skips lots another sweep holds.
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

// sweepNightly burns due lots at start-up and a minute after every local midnight, until ctx ends.
// Balances already ignore lots past their date, so the sweep only settles the books; a missed night
// is caught up by the next one.
func sweepNightly(ctx context.Context, store *ledger.Store, log *slog.Logger) {
	for {
		r, err := store.Expire(ctx, time.Now(), 0)
		if err != nil && ctx.Err() == nil {
			log.Error("expiry sweep failed", "err", err)
		} else if r.Lots > 0 {
			log.Info("expiry sweep done", "lots", r.Lots, "points", r.Points)
		}
		local := time.Now().In(store.Location())
		next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 1, 0, 0, store.Location())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}
