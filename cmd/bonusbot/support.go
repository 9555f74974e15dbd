package main

import (
	"context"
	"log/slog"
	"time"

	"bonusbot/bot"
	"bonusbot/bot/support"
	"bonusbot/dialogs"
	"bonusbot/ledger"
	"bonusbot/locales"
)

// newDesk is the support relay when SUPPORT_CHAT_ID is set, Telegram runs and the group is ready
// (a forum where the bot may manage topics, checked once here); otherwise nil, and /support gives the
// hotline as before. A group that is not ready is logged, naming what is wrong, and the rest serves.
func newDesk(ctx context.Context, cfg Config, store *ledger.Store, texts *locales.Catalog, log *slog.Logger) *support.Desk {
	if cfg.Support.ChatID == 0 {
		return nil
	}
	if cfg.BotToken == "" || cfg.BotMode == "off" {
		log.Warn("SUPPORT_CHAT_ID is set, but Telegram is off: /support gives the hotline and nothing is relayed")
		return nil
	}
	checkCtx, cancel := context.WithTimeout(ctx, groupCheckTimeout)
	defer cancel()
	if err := support.CheckGroupWith(checkCtx, cfg.BotToken, cfg.TelegramAPIURL, cfg.Support.ChatID); err != nil {
		log.Error("support relay off: the support group is not ready; /support gives the hotline", "err", err)
		return nil
	}
	return support.New(store, texts, log, support.Options{ChatID: cfg.Support.ChatID, ShowAgentName: cfg.Support.ShowAgentName,
		Idle: cfg.Support.Idle, MaxAdjust: cfg.Support.MaxAdjust})
}

// groupCheckTimeout bounds the start-up check of the support group: a Telegram that does not answer
// delays the start by this much, then the relay is off until the next start.
const groupCheckTimeout = 10 * time.Second

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
