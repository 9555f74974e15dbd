// Command bonusbench measures bonusbot on a generated dataset and writes bench-results.json.
//
//	bonusbench [flags]       ledger: import, ingest, transfers, redemptions, reads, sweep, and pgbench beside them
//	bonusbench bot [flags]   the Telegram bot against a fake Bot API server
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata"
)

// subcommands other files register; the ledger benchmark is the default.
var subcommands = map[string]func(ctx context.Context, args []string) error{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	run := runLedgerBench
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			run, args = sub, args[1:]
		}
	}
	if err := run(ctx, args); err != nil {
		fmt.Fprintln(os.Stderr, "bonusbench:", err)
		os.Exit(1)
	}
}
