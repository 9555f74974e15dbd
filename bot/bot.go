// Package bot is the Telegram channel: it long-polls the Bot API with github.com/go-telegram/bot,
// turns updates into dialogs.Input, runs them one at a time per chat, and renders dialogs.Output as
// Bot API calls within Telegram's rate limits. Only one process polls a token at a time (a Redis lease).
package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs"
	"bonusbot/locales"
)

// Channel is Telegram's name in channel links.
const Channel = "telegram"

// Engine answers one input (*dialogs.Engine).
type Engine interface {
	Handle(ctx context.Context, in dialogs.Input) (dialogs.Reply, error)
}

// Links marks chats that blocked the bot (*dialogs.Engine, which keeps its link cache right).
type Links interface {
	SetActive(ctx context.Context, channel string, userID int64, active bool) error
}

// Options tune the bot. Zero values take Telegram's published limits and the programme's defaults.
type Options struct {
	Token       string
	ServerURL   string        // the Bot API server; default https://api.telegram.org
	Prefix      string        // Redis key prefix
	UserRate    int           // inbound messages a user may send a minute (20)
	MaxInFlight int           // updates handled at once across all chats (64)
	GlobalRate  int           // outbound messages a second across all chats and replicas (30)
	ChatBurst   int           // outbound messages a chat may get at once, refilled at 1 a second (3 a minute in groups)
	LeaseTTL    time.Duration // how long a poller's lease lasts unless renewed (30 s)
	PollTimeout time.Duration // long-poll duration (50 s)
	MiniAppURL  string        // the Mini App's public address; empty: no menu button and no /app
	HTTPClient  *http.Client
	Support     Support // the relay to human agents (bot/support); nil without SUPPORT_CHAT_ID
}

func (o *Options) defaults() {
	if o.ServerURL == "" {
		o.ServerURL = "https://api.telegram.org"
	}
	o.UserRate = cmpOr(o.UserRate, 20)
	o.MaxInFlight = cmpOr(o.MaxInFlight, 64)
	o.GlobalRate = cmpOr(o.GlobalRate, 30)
	o.ChatBurst = cmpOr(o.ChatBurst, 3)
	o.LeaseTTL = cmpOr(o.LeaseTTL, 30*time.Second)
	o.PollTimeout = cmpOr(o.PollTimeout, 50*time.Second)
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(o.PollTimeout)
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// NewHTTPClient is a client for one Bot API host: every call goes to the same server, so it keeps
// many idle connections (net/http keeps 2 per host by default, and replies to many chats at once
// would reconnect all the time).
func NewHTTPClient(pollTimeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return &http.Client{Timeout: pollTimeout + 10*time.Second, Transport: t}
}

// Bot is the Telegram channel.
type Bot struct {
	api     *tg.Bot
	engine  Engine
	texts   *locales.Catalog
	links   Links
	rdb     redis.UniversalClient
	users   *userLimit
	log     *slog.Logger
	opts    Options
	out     *outbound
	chats   *dispatcher
	keys    string // this bot's Redis keys start so: the prefix and a hash of the token
	hash    string // the hash of the token that names this bot in Redis
}

// New checks the token with getMe and returns a Bot; Run starts it.
func New(ctx context.Context, engine Engine, texts *locales.Catalog, links Links, rdb redis.UniversalClient, log *slog.Logger, opts Options) (*Bot, error) {
	opts.defaults()
	sum := sha256.Sum256([]byte(opts.Token)) // update ids and limits are per bot; the token itself stays out of Redis
	keys := opts.Prefix + "bot:" + hex.EncodeToString(sum[:8]) + ":"
	b := &Bot{engine: engine, texts: texts, links: links, rdb: rdb, log: log, opts: opts, keys: keys, hash: hex.EncodeToString(sum[:8]),
		users: newUserLimit(rdb, keys+"in:", opts.UserRate),
		out:   newOutbound(rdb, opts.Prefix+"out:{"+hex.EncodeToString(sum[:8])+"}:", opts.GlobalRate, opts.ChatBurst, log)}
	b.chats = newDispatcher(opts.MaxInFlight, b.handle)
	api, err := tg.New(opts.Token,
		tg.WithServerURL(opts.ServerURL),
		tg.WithHTTPClient(opts.PollTimeout, opts.HTTPClient),
		tg.WithDefaultHandler(func(_ context.Context, _ *tg.Bot, u *models.Update) { b.chats.push(u) }),
		tg.WithNotAsyncHandlers(), // the dispatcher keeps each chat in order; the library would not
		// Unbuffered: the library confirms a batch (the next getUpdates' offset) once it has handed the
		// batch over, so an update must never sit in a buffer that a shutdown would drop.
		tg.WithUpdatesChannelCap(0),
		tg.WithAllowedUpdates(allowedUpdates),
		tg.WithErrorsHandler(func(err error) { log.Warn("telegram", "err", err) }),
		tg.WithCheckInitTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err) // the library already hides the token in its errors
	}
	b.api = api
	return b, nil
}

// Run polls while it holds the lease, until ctx ends; then it finishes the updates in hand.
// A second process with the same token waits for the lease instead of fighting over getUpdates.
func (b *Bot) Run(ctx context.Context) error {
	lease := newLease(b.rdb, b.opts.Prefix+"bot:lease:"+b.hash, b.opts.LeaseTTL, b.log) // the key earlier versions use too
	defer func() {
		b.chats.wait() // SIGTERM: the updates in hand are answered before exit
		lease.release(context.WithoutCancel(ctx))
	}()
	for {
		held, err := lease.acquire(ctx)
		if err != nil {
			return nil // ctx ended while waiting
		}
		// A webhook left by an earlier BOT_MODE=webhook would make every getUpdates fail with 409.
		if _, err := b.api.DeleteWebhook(held, &tg.DeleteWebhookParams{}); err != nil {
			b.log.Warn("deleteWebhook failed", "err", err)
		}
		if err := b.announce(ctx); err != nil {
			b.log.Warn("announcing commands failed", "err", err)
		}
		b.log.Info("telegram polling started")
		b.api.Start(held) // returns when ctx ends or the lease is lost
		if ctx.Err() != nil {
			return nil
		}
		b.log.Warn("telegram lease lost; waiting to poll again")
	}
}

// allowedUpdates are the updates the bot asks Telegram for; agents' edits of their answers are edited messages.
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage, models.AllowedUpdateCallbackQuery}

// Notify sends a text to a chat (a gift notice); it is notify.Chat.
func (b *Bot) Notify(ctx context.Context, chatID int64, text string) error {
	return b.send(ctx, chatID, func(ctx context.Context) error {
		_, err := b.api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chatID, Text: text})
		return err
	})
}
