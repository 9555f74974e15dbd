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
)

// RunWebhook is BOT_MODE=webhook: it registers url with Telegram, receives the updates Telegram
// pushes on ln (checking the secret Telegram echoes in every request) and handles them like polled
// ones, until ctx ends; then it stops accepting and finishes the updates in hand. Run one instance:
// chats are kept in order within a process, not across processes.
func (b *Bot) RunWebhook(ctx context.Context, ln net.Listener, url, secret string) error {
	srv := &http.Server{Handler: b.webhookHandler(secret), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if err := b.announce(ctx); err != nil {
		b.log.Warn("announcing commands failed", "err", err)
	}
	if _, err := b.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: url, SecretToken: secret,
		AllowedUpdates: allowedUpdates}); err != nil {
		srv.Close()
		return fmt.Errorf("bot: setWebhook: %w", err)
	}
	b.log.Info("telegram webhook registered", "addr", ln.Addr().String())
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		b.log.Warn("webhook shutdown", "err", err)
	}
	b.chats.wait() // no handler can push any more: the server has stopped
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("bot: webhook: %w", serveErr)
	}
	return nil
}

// webhookHandler accepts an update from Telegram: 401 without the secret, 400 for a body that is
// not an update, 200 once the update is queued for its chat.
func (b *Bot) webhookHandler(secret string) http.Handler {
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
		b.chats.push(&u)
	})
}
