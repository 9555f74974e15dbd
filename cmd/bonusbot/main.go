// Command bonusbot runs the bonus points programme: its ledger, ingest API and bot.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // TIMEZONE must resolve on hosts without a zoneinfo database
)

// version is set by the linker (-X main.version=…) in release builds.
var version = "dev"

const usage = `bonusbot — a telecom bonus points programme

Usage:
  bonusbot migrate                       apply database migrations
  bonusbot seed --demo                   load the demo catalogue and subscribers (idempotent)
  bonusbot serve [--console]             run migrations, then the HTTP server and the bot
                                         (--console: also chat in this terminal)
  bonusbot chat [--phone +7…]            talk to the bot in this terminal as a subscriber
  bonusbot import accruals|catalog|promocodes FILE
                                         bulk-load a CSV file
  bonusbot expire [--at RFC3339]         burn lots that have expired (manual and backfill;
                                         serve sweeps daily)
  bonusbot probe [--path /readyz]        exit 0 if this container's server answers 200
  bonusbot version                       print the version

Configuration comes from the environment; see README.md.
`

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bonusbot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) == 0 {
		return errUsage
	}
	if args[0] == "version" {
		fmt.Println("bonusbot", version)
		return nil
	}
	cfg, err := Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr)
	switch args[0] {
	case "migrate":
		return runMigrate(ctx, cfg, log)
	case "serve":
		return runServe(ctx, cfg, log, args[1:])
	case "chat":
		return runChat(ctx, cfg, args[1:])
	case "import":
		return runImport(ctx, cfg, log, args[1:])
	case "seed":
		return runSeed(ctx, cfg, log, args[1:])
	case "expire":
		return runExpire(ctx, cfg, log, args[1:])
	case "probe":
		return runProbe(ctx, cfg, args[1:], os.Stdout)
	}
	return errUsage
}
