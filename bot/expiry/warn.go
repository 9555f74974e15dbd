package expiry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"bonusbot/bot/notify"
	"bonusbot/dialogs"
	"bonusbot/dialogs/metrics"
	"bonusbot/ledger"
)

// PlanArgs is the daily plan of expiry warnings of one local date.
type PlanArgs struct {
	Date string `json:"date"` // YYYY-MM-DD, local: the job's unique key
}

// Kind names the job in River's table.
func (PlanArgs) Kind() string { return "expiry_warning_plan" }

// InsertOpts: one plan per date.
func (PlanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// WarnArgs sends one planned warning.
type WarnArgs struct {
	WarningID int64 `json:"warning_id"`
}

// Kind names the job in River's table.
func (WarnArgs) Kind() string { return "expiry_warning" }

// InsertOpts: one job per warning, in the warnings' own queue.
func (WarnArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWarnings, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// planJob plans at the opening of WARN_HOURS (10:00 when any hour will do), and when a leader starts.
func (x *Expiry) planJob() *river.PeriodicJob {
	at := x.opts.Hours.From
	if x.opts.Hours.AlwaysOpen() {
		at = 10 * time.Hour
	}
	return river.NewPeriodicJob(daily{at, x.store.Location()},
		func() (river.JobArgs, *river.InsertOpts) { return PlanArgs{Date: x.localDate()}, nil },
		&river.PeriodicJobOpts{ID: "expiry_warning_plan", RunOnStart: true})
}

// opensAt is when a warning may go out: zero now, or the next opening of WARN_HOURS.
func (x *Expiry) opensAt(now time.Time) time.Time {
	if open, at := x.opts.Hours.Next(now, x.store.Location()); !open {
		return at
	}
	return time.Time{}
}

// channels are the chat channels that can deliver warnings now.
func (x *Expiry) channels() []string { return slices.Sorted(maps.Keys(x.chats)) }

type planWorker struct {
	river.WorkerDefaults[PlanArgs]
	x *Expiry
}

// Timeout: a plan walks every account with points burning within 30 days.
func (*planWorker) Timeout(*river.Job[PlanArgs]) time.Duration { return time.Hour }

// Work chooses today's warnings and queues a send job for each in the same transaction, scheduled
// for the opening of WARN_HOURS when planned outside them. A retry chooses only what is left.
func (w *planWorker) Work(ctx context.Context, job *river.Job[PlanArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	req := ledger.WarningPlanRequest{Channels: w.x.channels(), SMS: w.x.opts.SMS}
	at := w.x.opensAt(w.x.opts.Now())
	kinds := map[string]int{}
	n, err := w.x.store.PlanWarnings(ctx, req, func(ctx context.Context, tx pgx.Tx, ws []ledger.Warning) error {
		params := make([]river.InsertManyParams, len(ws))
		for i, wa := range ws {
			params[i] = river.InsertManyParams{Args: WarnArgs{WarningID: wa.ID}, InsertOpts: &river.InsertOpts{ScheduledAt: at}}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("queue warnings: %w", err)
		}
		for _, wa := range ws {
			kinds[wa.Kind]++ // counted once the chunk is in; a failed chunk returns before this
		}
		return nil
	})
	for kind, k := range kinds {
		metrics.WarningsPlanned.WithLabelValues(kind).Add(float64(k))
	}
	if err != nil {
		return err
	}
	w.x.log.InfoContext(ctx, "expiry warnings planned", "date", job.Args.Date, "warnings", n, "channels", strings.Join(req.Channels, ","), "sms", req.SMS)
	return nil
}

type warnWorker struct {
	river.WorkerDefaults[WarnArgs]
	x *Expiry
}

// errNotDelivered asks River to retry a warning no channel took.
var errNotDelivered = errors.New("expiry: warning not delivered")

// Work sends one warning, at most once: outside WARN_HOURS it waits for their opening; a warning
// whose send was cut off before (ledger.BeginWarning) is not sent again.
func (w *warnWorker) Work(ctx context.Context, job *river.Job[WarnArgs]) error {
	if at := w.x.opensAt(w.x.opts.Now()); !at.IsZero() {
		return river.JobSnooze(at.Sub(w.x.opts.Now()))
	}
	n, ok, err := w.x.store.BeginWarning(ctx, job.Args.WarningID)
	if err != nil {
		return err
	}
	if !ok {
		metrics.Warnings.WithLabelValues("none", "in_doubt").Inc()
		w.x.log.WarnContext(ctx, "expiry warning not waiting to be sent (sent, skipped or cut off before): not sending", "warning_id", job.Args.WarningID)
		return nil
	}
	state, channel, sendErr := w.x.deliver(ctx, n)
	// Recorded even when the job's context ended mid-send (its timeout, a shutdown): a warning left
	// "sending" is never sent again.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.x.store.FinishWarning(fctx, n.ID, state, channel); err != nil {
		return errors.Join(sendErr, err) // still "sending": the retry finds it in doubt and sends nothing
	}
	switch {
	case sendErr != nil:
		metrics.Warnings.WithLabelValues(cmp.Or(channel, "none"), "failed").Inc()
	case state == ledger.WarnSkipped:
		metrics.Warnings.WithLabelValues("none", "skipped").Inc()
	default:
		metrics.Warnings.WithLabelValues(channel, "sent").Inc()
	}
	return sendErr
}

// deliver sends n to the member's active chats, or by SMS when none took it and SMS warnings are on.
// It returns the warning's state after it and where it went.
func (x *Expiry) deliver(ctx context.Context, n ledger.WarningNotice) (state, channel string, err error) {
	if !x.opts.Warnings || !n.Enabled || n.Soon == 0 || (n.Kind == ledger.WarnWeekBefore && n.Burn == 0) {
		return ledger.WarnSkipped, "", nil // turned off, or nothing burns any more
	}
	links, err := x.store.LinksForAccount(ctx, n.AccountID)
	if err != nil {
		return ledger.WarnPlanned, "", err
	}
	out, lang := dialogs.ExpiryWarning(n), "ru"
	// One chat is enough: the member has read it there.
	channel, failed := notify.TellChats(ctx, x.chats, links, func(chat notify.Chat, l ledger.Link) error {
		lang = l.Language
		return x.sendChat(ctx, chat, l, out)
	}, x.log, "expiry warning", "warning_id", n.ID)
	switch {
	case channel != "":
		return ledger.WarnSent, channel, nil
	case x.opts.SMS && n.Phone != "":
		if err := x.sms.Send(ctx, n.Phone, x.texts.Render(lang, dialogs.ExpiryWarningSMS(n))); err != nil {
			return ledger.WarnPlanned, "sms", fmt.Errorf("%w: sms: %w", errNotDelivered, err)
		}
		return ledger.WarnSent, "sms", nil
	case failed > 0:
		return ledger.WarnPlanned, "", fmt.Errorf("%w to %d chats", errNotDelivered, failed)
	}
	return ledger.WarnSkipped, "", nil // nowhere to send it
}

func (x *Expiry) sendChat(ctx context.Context, chat notify.Chat, l ledger.Link, out dialogs.Output) error {
	if s, ok := chat.(Sender); ok {
		return s.SendOutput(ctx, l.ChatID, l.Language, out)
	}
	words := make([]string, len(out.Lines))
	for i, t := range out.Lines {
		words[i] = x.texts.Render(l.Language, t)
	}
	return chat.Notify(ctx, l.ChatID, strings.Join(words, "\n"))
}
