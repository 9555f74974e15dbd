package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"bonusbot/bot/console"
)

// runChat is `bonusbot chat [--phone +7…]`: the dialogs in this terminal, as that subscriber. It is
// an operator's tool, trusted like psql: the phone is linked without a one-time code.
func runChat(ctx context.Context, cfg Config, args []string) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	phone := fs.String("phone", "", "talk as this subscriber (default: the first demo subscriber)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := openServices(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.close()
	c, err := console.New(ctx, svc.store, svc.ch.engine, svc.ch.texts, log, *phone, os.Stdout)
	if err != nil {
		return err
	}
	return c.Run(ctx, os.Stdin)
}
