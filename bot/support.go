package bot

import (
	"context"
	"fmt"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
)

// Support is the relay between subscribers and human agents in a forum supergroup (bot/support).
type Support interface {
	// Relay hands a subscriber's message in chat to the agents. It returns once the message is
	// queued durably, where any replica will post it (the update may then be answered); the error
	// says it could not be queued.
	Relay(ctx context.Context, chat int64, r dialogs.Relay) error
	// Agent handles what is the agents' business: every update from the support group, a message an
	// agent forwarded to the bot's private chat, and a subscriber's edit (the copy in the topic
	// follows it). handled is false for everything else.
	Agent(ctx context.Context, u *models.Update) (handled bool, err error)
}

// relay hands a relay output to Support. A message that could not be queued fails the update, so
// the subscriber is told to try again rather than left believing the agents have it.
func (b *Bot) relay(ctx context.Context, chat int64, r dialogs.Relay) error {
	if b.opts.Support == nil {
		return fmt.Errorf("support relay asked for in chat %d, but none is configured", chat)
	}
	if err := b.opts.Support.Relay(ctx, chat, r); err != nil {
		return fmt.Errorf("support relay of account %d: %w", r.Account, err)
	}
	return nil
}

// Call makes one Bot API call that posts into chat through the bot's one outbound path: its rate
// limits, 429 retries and the 403 that marks a subscriber's chat inactive.
func (b *Bot) Call(ctx context.Context, chat int64, call func(ctx context.Context, api *tg.Bot) error) error {
	return b.send(ctx, chat, func(ctx context.Context) error { return call(ctx, b.api) })
}

// API is the Bot API client, for calls that post nothing (getChatMember).
func (b *Bot) API() *tg.Bot { return b.api }
