package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"bonusbot/bot"
	"bonusbot/bot/console"
	"bonusbot/bot/fulfil"
	"bonusbot/bot/miniapp"
	"bonusbot/bot/notify"
	"bonusbot/bot/sms"
	"bonusbot/bot/support"
	"bonusbot/dialogs"
	"bonusbot/ledger"
	"bonusbot/locales"
)

// redisPrefix starts every key bonusbot writes, so it can share a Redis with other programs.
const redisPrefix = "bonusbot:"

// channels are the ways subscribers talk to bonusbot (Telegram, the console) and the parts they
// share: the dialogs engine, the words, the SMS gateway and the gift notices.
type channels struct {
	cfg     Config
	log     *slog.Logger
	rdb     redis.UniversalClient
	texts   *locales.Catalog
	sms     dialogs.SMS
	notices *notify.Client
	chats   map[string]notify.Chat
	engine  *dialogs.Engine
	desk    *support.Desk // the relay to human agents; nil without SUPPORT_CHAT_ID or Telegram
}

// newChannels applies River's migrations and prepares everything but the Store, which needs
// onGift (see attach).
func newChannels(ctx context.Context, cfg Config, log *slog.Logger, pool *pgxpool.Pool, rdb redis.UniversalClient) (*channels, error) {
	if err := notify.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	texts, err := locales.New(cfg.Location, nil)
	if err != nil {
		return nil, err
	}
	c := &channels{cfg: cfg, log: log, rdb: rdb, texts: texts, chats: map[string]notify.Chat{}}
	if cfg.CodeSecret == "" {
		log.Warn("CODE_SECRET is empty: one-time codes are keyed with a random secret of this process (development only)")
	}
	if cfg.SMSGatewayURL == "" {
		log.Warn("SMS_GATEWAY_URL is empty: one-time codes and notices go to this log (development only)")
		c.sms = sms.DevLog{Log: log}
	} else {
		c.sms = sms.NewGateway(cfg.SMSGatewayURL, nil)
	}
	reader := ledger.NewStore(pool, c.storeOptions()) // the workers gift nothing: no notice hook needed
	w := notify.NewWorker(reader, c.chats, c.sms, texts, log)
	jobs := c.backgroundJobs(reader)
	if c.desk = newDesk(ctx, cfg, reader, texts, log); c.desk != nil {
		jobs = append(jobs, c.desk.Jobs())
	}
	if c.notices, err = notify.NewClient(pool, w, log, jobs...); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *channels) storeOptions() ledger.Options {
	return ledger.Options{Location: c.cfg.Location, Expiry: c.cfg.Expiry, MaxAdjust: c.cfg.Support.MaxAdjust}
}

// attach returns the Store whose gifts enqueue notices, and builds the dialogs engine on it.
func (c *channels) attach(pool *pgxpool.Pool) *ledger.Store {
	opts := c.storeOptions()
	opts.OnGift = c.notices.OnGift
	opts.OnRedeem = fulfil.OnRedeem(c.notices)
	store := ledger.NewStore(pool, opts)
	c.engine = dialogs.NewEngine(observedStore{store}, observedStore{store}, c.sms, c.texts, c.rdb, c.log,
		dialogs.Options{Prefix: redisPrefix, Location: c.cfg.Location, DialogTTL: c.cfg.DialogTTL, Support: c.supportOptions(),
			CodeSecret: []byte(c.cfg.CodeSecret), PhonePrefixes: c.cfg.PhonePrefixes, AppCommand: c.cfg.MiniAppURL != ""})
	return store
}

// miniApp is the Mini App's page and API, over the same engine and ledger as the chat.
func (c *channels) miniApp(store *ledger.Store) *miniapp.Handler {
	return miniapp.New(c.engine, store, c.texts, c.rdb, c.log, miniapp.Options{BotToken: c.cfg.BotToken, VKSecret: c.cfg.VKAppSecret,
		MaxAge: c.cfg.MiniAppMaxAge, Rate: c.cfg.MiniAppRate, Dev: c.cfg.MiniAppDev, Prefix: redisPrefix})
}

// run works gift notices, the console (if asked), the support desk and Telegram (if configured) until
// ctx ends or one of them fails. Then, side by side and each within SHUTDOWN_GRACE, Telegram stops
// taking updates and finishes those in hand (confirming the polling offset) and River finishes the
// jobs in hand, and the support desk settles the post in hand (the rest stays in the outbox). Its
// error is the first part's that failed (Bot.Run's, for a revoked token).
func (c *channels) run(ctx context.Context, store *ledger.Store, withConsole bool) error {
	tgBot, err := c.newBot(ctx)
	if err != nil {
		return err
	}
	// River's jobs do not end with ctx: they get the grace period (stopNotices), and are cancelled after.
	jobs, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	if err := c.notices.Start(jobs); err != nil {
		return fmt.Errorf("notices: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	// The desk stops with the rest: posts for the group are rows in the outbox, so updates and jobs
	// still in hand when it stops lose nothing; another replica (or the next start) posts them.
	g.Go(func() error { return c.runDesk(gctx) })
	if withConsole {
		con, err := console.New(ctx, store, c.engine, c.texts, c.log, "", os.Stdout)
		if err != nil {
			c.notices.Stop(context.WithoutCancel(ctx))
			return err
		}
		g.Go(func() error { // EOF ends the console only: the server keeps running
			if err := con.Run(gctx, os.Stdin); err != nil {
				c.log.Error("console", "err", err)
			}
			c.log.Info("console closed")
			return nil
		})
	}
	g.Go(func() error { return c.runTelegram(gctx, tgBot) })
	g.Go(func() error {
		<-gctx.Done()
		return c.stopNotices(ctx, cancelJobs)
	})
	return g.Wait()
}

// newBot is the Telegram channel, when there is a token and BOT_MODE is not off; else nil.
func (c *channels) newBot(ctx context.Context) (*bot.Bot, error) {
	if c.cfg.BotToken == "" || c.cfg.BotMode == "off" {
		return nil, nil
	}
	opts := bot.Options{Prefix: redisPrefix, Token: c.cfg.BotToken, ServerURL: c.cfg.TelegramAPIURL, UserRate: c.cfg.BotUserRate,
		GlobalRate: c.cfg.BotGlobalRate, MiniAppURL: c.cfg.MiniAppURL, ShutdownGrace: c.cfg.ShutdownGrace,
		WebhookMaxConnections: c.cfg.WebhookMaxConnections}
	if c.desk != nil {
		opts.Support = c.desk
	}
	tgBot, err := bot.New(ctx, c.engine, c.texts, c.engine, c.rdb, c.log, opts)
	if err != nil {
		return nil, err
	}
	c.chats[bot.Channel] = tgBot // before the notice workers start reading the map
	if c.desk != nil {
		c.desk.Attach(tgBot) // before River works the idle sweep
	}
	return tgBot, nil
}

// runTelegram takes updates until ctx ends, then finishes those in hand.
func (c *channels) runTelegram(ctx context.Context, tgBot *bot.Bot) error {
	switch {
	case tgBot != nil && c.cfg.BotMode == "webhook":
		ln, err := net.Listen("tcp", c.cfg.WebhookAddr)
		if err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
		return tgBot.RunWebhook(ctx, ln, c.cfg.WebhookURL, c.cfg.WebhookSecret)
	case tgBot != nil:
		return tgBot.Run(ctx)
	}
	c.log.Info("telegram is off (TELEGRAM_BOT_TOKEN empty or BOT_MODE=off)")
	<-ctx.Done()
	return nil
}

// stopNotices stops River: the jobs in hand get SHUTDOWN_GRACE, then their contexts are cancelled
// and River is waited for (they are retried later, by this replica or another).
func (c *channels) stopNotices(ctx context.Context, cancelJobs context.CancelFunc) error {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ShutdownGrace)
	defer cancel()
	err := c.notices.Stop(stopCtx)
	if err == nil {
		return nil
	}
	c.log.Warn("river jobs still running after the shutdown grace; cancelling them", "err", err)
	cancelJobs()
	hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.notices.Stop(hardCtx); err != nil {
		return err
	}
	return nil
}
