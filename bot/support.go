package bot

import (
	"context"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
)

// Support is the relay between subscribers and human agents in a forum supergroup (bot/support).
type Support interface {
	// Relay hands a subscriber's message in chat to the agents. It queues the work and returns; the
	// error says the message could not even be queued.
	Relay(ctx context.Context, chat int64, r dialogs.Relay) error
	// Agent handles what is the agents' business: every update from the support group, and a message
	// an agent forwarded to the bot's private chat. handled is false for everything else.
	Agent(ctx context.Context, u *models.Update) (handled bool, err error)
}

// relay hands a relay output to Support. A failure is logged: the subscriber's message stays in their
// chat, and the next one tries again.
func (b *Bot) relay(ctx context.Context, chat int64, r dialogs.Relay) {
	if b.opts.Support == nil {
		b.log.ErrorContext(ctx, "support relay asked for, but none is configured", "chat_id", chat)
		return
	}
	if err := b.opts.Support.Relay(ctx, chat, r); err != nil {
		b.log.ErrorContext(ctx, "support relay failed", "chat_id", chat, "account_id", r.Account, "err", err)
	}
}

// Call makes one Bot API call that posts into chat through the bot's one outbound path: its rate
// limits, 429 retries and the 403 that marks a subscriber's chat inactive.
func (b *Bot) Call(ctx context.Context, chat int64, call func(ctx context.Context, api *tg.Bot) error) error {
	return b.send(ctx, chat, func(ctx context.Context) error { return call(ctx, b.api) })
}

// API is the Bot API client, for calls that post nothing (getChatMember).
func (b *Bot) API() *tg.Bot { return b.api }
