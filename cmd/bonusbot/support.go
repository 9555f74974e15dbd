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

// runDesk works the support group's post queue until the returned stop is called; stop waits for
// it to finish what is queued (bounded by the desk's drain timeout).
func (c *channels) runDesk(ctx context.Context) (stop func()) {
	if c.desk == nil {
		return func() {}
	}
	deskCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.desk.Run(deskCtx); err != nil {
			c.log.Error("support", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
