package main

import (
	"context"
	"log/slog"

	"bonusbot/bot"
	"bonusbot/bot/support"
	"bonusbot/dialogs"
	"bonusbot/ledger"
	"bonusbot/locales"
)

// newDesk is the support relay when SUPPORT_CHAT_ID is set and Telegram runs; otherwise nil, and
// /support gives the hotline as before.
func newDesk(cfg Config, store *ledger.Store, texts *locales.Catalog, log *slog.Logger) *support.Desk {
	if cfg.Support.ChatID == 0 {
		return nil
	}
	if cfg.BotToken == "" || cfg.BotMode == "off" {
		log.Warn("SUPPORT_CHAT_ID is set, but Telegram is off: /support gives the hotline and nothing is relayed")
		return nil
	}
	return support.New(store, texts, log, support.Options{ChatID: cfg.Support.ChatID, ShowAgentName: cfg.Support.ShowAgentName,
		Idle: cfg.Support.Idle, MaxAdjust: cfg.Support.MaxAdjust})
}

// supportOptions tell the dialogs which channels reach human agents: Telegram, when the relay runs.
func (c *channels) supportOptions() dialogs.SupportOptions {
	o := dialogs.SupportOptions{Hours: c.cfg.Support.Hours, Idle: c.cfg.Support.Idle}
	if c.desk != nil {
		o.Channels = []string{bot.Channel}
	}
	return o
}

// runDesk works the support group's outbox, whenever this replica holds its lock, until ctx ends;
// it returns once the post in hand is settled (within the desk's drain timeout). What it did not
// post stays in the outbox for the next replica to hold the lock.
func (c *channels) runDesk(ctx context.Context) error {
	if c.desk == nil {
		return nil
	}
	return c.desk.Run(ctx)
}
