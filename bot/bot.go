// Package bot is the Telegram channel: it takes updates from the Bot API (long polling by one replica
// at a time, behind a Redis lease, or a webhook served by any number of replicas), handles each once
// (claims in Redis), turns it into dialogs.Input, runs a chat's updates one at a time and in order,
// and renders dialogs.Output as Bot API calls (github.com/go-telegram/bot) within Telegram's rate
// limits, which Redis keeps for all replicas.
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
	// ClaimTTL is how long an update's claim outlives a replica that died handling it (15 s).
	ClaimTTL time.Duration
	// DoneTTL is how long a handled update's mark stays, against Telegram delivering it again (1 h):
	// about 100 bytes of Redis per update.
	DoneTTL time.Duration
	// ShutdownGrace is how long the updates in hand may take to finish once Run's context ends (20 s).
	ShutdownGrace time.Duration
	// WebhookMaxConnections is how many updates Telegram may have in flight to the webhook at once,
	// over all replicas (40).
	WebhookMaxConnections int
	MiniAppURL            string // the Mini App's public address; empty: no menu button and no /app
	HTTPClient            *http.Client
	Support               Support // the relay to human agents (bot/support); nil without SUPPORT_CHAT_ID
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
	o.ClaimTTL = cmpOr(o.ClaimTTL, 15*time.Second)
	o.DoneTTL = cmpOr(o.DoneTTL, time.Hour)
	o.ShutdownGrace = cmpOr(o.ShutdownGrace, 20*time.Second)
	o.WebhookMaxConnections = cmpOr(o.WebhookMaxConnections, 40)
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
	return &http.Client{Timeout: pollTimeout + 10*time.Second, Transport: apiTransport{t}}
}

// Bot is the Telegram channel.
type Bot struct {
	api    *tg.Bot
	engine Engine
	texts  *locales.Catalog
	links  Links
	rdb    redis.UniversalClient
	users  *userLimit
	log    *slog.Logger
	opts   Options
	out    *outbound
	claims *claims
	hash   string // the hash of the token that names this bot in Redis
}

// New checks the token with getMe and returns a Bot; Run (polling) or RunWebhook starts it.
func New(ctx context.Context, engine Engine, texts *locales.Catalog, links Links, rdb redis.UniversalClient, log *slog.Logger, opts Options) (*Bot, error) {
	opts.defaults()
	sum := sha256.Sum256([]byte(opts.Token)) // update ids and limits are per bot; the token itself stays out of Redis
	hash := hex.EncodeToString(sum[:8])
	keys := opts.Prefix + "bot:" + hash + ":"
	b := &Bot{engine: observeEngine{engine}, texts: texts, links: links, rdb: rdb, log: log, opts: opts, hash: hash,
		users:  newUserLimit(rdb, keys+"in:", opts.UserRate),
		out:    newOutbound(rdb, opts.Prefix+"out:{"+hash+"}:", opts.GlobalRate, opts.ChatBurst, log),
		claims: newClaims(rdb, keys+"upd:", opts.ClaimTTL, opts.DoneTTL, log)}
	api, err := tg.New(opts.Token,
		tg.WithServerURL(opts.ServerURL),
		tg.WithHTTPClient(opts.PollTimeout, opts.HTTPClient),
		tg.WithErrorsHandler(func(err error) { log.Warn("telegram", "err", err) }),
		tg.WithCheckInitTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err) // the library already hides the token in its errors
	}
	b.api = api
	return b, nil
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
