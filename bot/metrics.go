package bot

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"bonusbot/bot/logs"
	"bonusbot/dialogs"
	"bonusbot/dialogs/metrics"
)

// Metrics and log context for the bot, kept here so the bot's own files need one call each:
// observeUpdates around the dispatcher's handler, failed where an update fails, observeEngine around
// the dialogs engine, and apiTransport under the Bot API client.

type outcomeKey struct{}

// observeUpdates wraps an update handler: the update's id goes into the context (every log line of it
// carries update_id), and its type, outcome and duration into bonusbot_updates_total and
// bonusbot_update_duration_seconds.
func observeUpdates(handle func(context.Context, *models.Update)) func(context.Context, *models.Update) {
	return func(ctx context.Context, u *models.Update) {
		start, outcome := time.Now(), "ok"
		ctx = context.WithValue(logs.WithUpdate(ctx, u.ID), outcomeKey{}, &outcome)
		handle(ctx, u)
		kind := updateType(u)
		metrics.UpdateSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		metrics.Updates.WithLabelValues(kind, outcome).Inc()
	}
}

// failed records how the update in ctx failed ("failed", "panic") for its metrics.
func failed(ctx context.Context, outcome string) {
	if p, ok := ctx.Value(outcomeKey{}).(*string); ok {
		*p = outcome
	}
}

func updateType(u *models.Update) string {
	switch {
	case u.Message != nil:
		return "message"
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.EditedMessage != nil:
		return "edited_message"
	}
	return "other"
}

// observeEngine times each dialog step with its effects, by the kind of input: a command, a button
// (by its callback kind, a fixed set), a contact or text. User-typed words never become labels.
type observeEngine struct{ Engine }

func (e observeEngine) Handle(ctx context.Context, in dialogs.Input) (dialogs.Reply, error) {
	start := time.Now()
	r, err := e.Engine.Handle(ctx, in)
	metrics.DialogSeconds.WithLabelValues(inputKind(in)).Observe(time.Since(start).Seconds())
	return r, err
}

func inputKind(in dialogs.Input) string {
	switch {
	case in.Data != "":
		if c, ok := dialogs.ParseCallback(in.Data); ok {
			return "button:" + string(c.Kind)
		}
		return "button"
	case in.Command != "":
		return "command"
	case in.Contact != nil:
		return "contact"
	}
	return "text"
}

// apiTransport counts Bot API calls by method and HTTP status (Telegram answers an error with the
// status of its error_code: 400, 403, 429…) and times them. The token in the path never becomes a
// label: only the method, the path's last segment.
type apiTransport struct{ next http.RoundTripper }

func (t apiTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	metrics.TelegramSeconds.WithLabelValues(method).Observe(time.Since(start).Seconds())
	metrics.TelegramCalls.WithLabelValues(method, code).Inc()
	return resp, err
}
