package bot

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/sync/errgroup"
)

// RunWebhook is BOT_MODE=webhook on any number of replicas behind a load balancer. Telegram posts
// each update to url; the replica that gets it answers only once the update is handled (or was
// handled before: claims), never on receipt, so
//   - a replica that dies with an update in hand has not answered it, and Telegram sends it again
//     (another replica takes it once the dead one's claim lapses);
//   - per-chat order holds across replicas: the Bot API server sends a chat's next update only after
//     the previous one was answered (tdlib/telegram-bot-api's WebhookActor; not a documented promise);
//   - a retry of an update still being handled waits for that handling and is answered 200 after it.
//
// The replica holding the bot's lease registers the webhook (url, secret, max_connections,
// allowed_updates) and the commands; the others only serve. When ctx ends RunWebhook stops taking
// updates (503: Telegram resends them to another replica), lets those in hand finish within
// ShutdownGrace and returns; its error is the listener's.
func (b *Bot) RunWebhook(ctx context.Context, ln net.Listener, url, secret string) error {
	d := newDispatcher(b.opts.MaxInFlight, b.handleOnce)
	srv := webhookServer(ctx, b.webhookHandler(d, secret))
	background, stop := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	g.Go(func() error { b.claims.run(background); return nil })
	g.Go(func() error { b.registerWebhook(ctx, url, secret); return nil })
	serveErr := make(chan error, 1)
	g.Go(func() error {
		serveErr <- srv.Serve(ln)
		return nil
	})
	b.log.Info("telegram webhook serving", "addr", ln.Addr().String())
	var err error
	select {
	case err = <-serveErr:
		err = fmt.Errorf("bot: webhook: %w", err)
	case <-ctx.Done():
	}
	// Stop taking updates; those in hand finish (their requests are answered then), or are cancelled
	// after the grace period and answered 503.
	drained := make(chan bool, 1)
	g.Go(func() error {
		drained <- d.shutdown(b.opts.ShutdownGrace)
		return nil
	})
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.ShutdownGrace+5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		b.log.Warn("webhook shutdown", "err", serr)
		srv.Close()
	}
	if !<-drained {
		b.log.Warn("updates in hand cancelled after the shutdown grace; Telegram sends them again", "grace", b.opts.ShutdownGrace.String())
	}
	stop()
	g.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// registerWebhook sets the webhook and the commands while this replica holds the lease, retrying
// failures, until ctx ends; another replica that takes the lease over does it again.
func (b *Bot) registerWebhook(ctx context.Context, url, secret string) {
	lease := newLease(b.rdb, b.opts.Prefix+"bot:lease:"+b.hash, b.opts.LeaseTTL, b.log)
	for {
		held, release, err := lease.acquire(ctx)
		if err != nil {
			return // ctx ended
		}
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			err := b.setWebhook(held, url, secret)
			if err == nil {
				break
			}
			b.log.Error("setting the webhook failed", "err", err, "retry_in", wait.String())
			if sleep(held, wait) != nil {
				break
			}
		}
		<-held.Done()
		release()
		if ctx.Err() != nil {
			return
		}
	}
}

func (b *Bot) setWebhook(ctx context.Context, url, secret string) error {
	if _, err := b.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: url, SecretToken: secret, MaxConnections: b.opts.WebhookMaxConnections,
		AllowedUpdates: allowedUpdates}); err != nil {
		return fmt.Errorf("bot: setWebhook: %w", err)
	}
	if err := b.announce(ctx); err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	b.log.Info("telegram webhook registered", "max_connections", b.opts.WebhookMaxConnections)
	return nil
}

// webhookServer serves h on the webhook's public address. Requests are not cut when ctx ends: the
// updates in hand are answered when they are handled. Its listener faces the internet, so a client
// that trickles its headers or holds a keep-alive connection idle is cut off, as on HTTP_ADDR; there
// is no ReadTimeout or WriteTimeout, since an answer waits for the update's handling.
func webhookServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: webhookIdleTimeout,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
}

// webhookIdleTimeout closes a keep-alive connection idle this long (Telegram opens a new one when it
// needs it). Without it, an idle connection, authenticated or not, stays open for good.
const webhookIdleTimeout = 30 * time.Second

// webhookHandler takes an update from Telegram: 401 without the secret, 400 for a body that is not an
// update, 200 once the update is handled (or was before), 503 when this replica is stopping or gave
// the update up: Telegram sends it again.
func (b *Bot) webhookHandler(d *dispatcher, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u models.Update
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&u); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		over := make(chan bool, 1)
		if !d.push(&u, func(handled bool) { over <- handled }) {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		select {
		case handled := <-over:
			if !handled {
				http.Error(w, "not handled", http.StatusServiceUnavailable)
			}
		case <-r.Context().Done(): // Telegram gave up waiting; the update is handled all the same
		}
	})
}
