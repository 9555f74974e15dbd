// Package expiry runs the jobs around points expiry on the process's one River client: the daily
// sweep that burns expired lots, once per local date however many replicas run (sweep.go), and the
// expiry warnings — planned once a day, then sent one job per warning within quiet hours (warn.go).
// Both are periodic jobs unique per local date, so River's leader schedules them once; the ledger's
// records (ledger.SweepDay, ledger.PlanWarnings) make a doubled or retried run harmless all the same.
package expiry

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"bonusbot/bot/notify"
	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Store is what the jobs need of the ledger (*ledger.Store).
type Store interface {
	SweepDay(ctx context.Context) (ledger.SweepRun, error)
	PlanWarnings(ctx context.Context, req ledger.WarningPlanRequest, claimed func(context.Context, pgx.Tx, []ledger.Warning) error) (int, error)
	BeginWarning(ctx context.Context, id int64) (ledger.WarningNotice, bool, error)
	FinishWarning(ctx context.Context, id int64, state, channel string) error
	LinksForAccount(ctx context.Context, accountID int64) ([]ledger.Link, error)
	Location() *time.Location
}

// Sender is a chat that can show a warning with its buttons (*bot.Bot). A notify.Chat that is not a
// Sender gets the warning's words alone.
type Sender interface {
	SendOutput(ctx context.Context, chatID int64, lang string, o dialogs.Output) error
}

// Options tune the jobs. Zero values: warnings off, any hour, sweep at 00:05.
type Options struct {
	Warnings bool             // EXPIRY_WARNINGS: plan and send warnings
	SMS      bool             // SMS_WARNINGS: members without a chat get the warning by SMS
	Hours    dialogs.Hours    // WARN_HOURS: when warnings may be sent, local time; zero: any hour
	SweepAt  time.Duration    // the sweep's time past local midnight (5 min)
	Now      func() time.Time // injectable clock (quiet hours, the job's date)
}

// QueueWarnings is the River queue warnings are sent from, apart from gift notices and the sweep, so a
// day's warnings never hold up a notice.
const QueueWarnings = "warnings"

// Expiry owns the jobs.
type Expiry struct {
	store Store
	chats map[string]notify.Chat // by channel; filled by the caller before River starts
	sms   dialogs.SMS
	texts notify.Renderer
	log   *slog.Logger
	opts  Options
}

// New returns the expiry jobs; chats may be filled in later, before River starts working.
func New(store Store, chats map[string]notify.Chat, sms dialogs.SMS, texts notify.Renderer, log *slog.Logger, opts Options) *Expiry {
	if opts.SweepAt == 0 {
		opts.SweepAt = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Expiry{store: store, chats: chats, sms: sms, texts: texts, log: log, opts: opts}
}

// Jobs are the workers, queues and schedules for notify.NewClient. The workers are always there, so
// jobs queued before warnings were turned off still finish (as skipped).
func (x *Expiry) Jobs() notify.Jobs {
	j := notify.Jobs{
		Add: func(w *river.Workers) {
			river.AddWorker(w, &sweepWorker{x: x})
			river.AddWorker(w, &planWorker{x: x})
			river.AddWorker(w, &warnWorker{x: x})
		},
		Queues:   map[string]river.QueueConfig{QueueWarnings: {MaxWorkers: 4}},
		Periodic: []*river.PeriodicJob{x.sweepJob()},
	}
	if x.opts.Warnings {
		j.Periodic = append(j.Periodic, x.planJob())
	}
	return j
}

// localDate names today's local date, the unique key of a day's job.
func (x *Expiry) localDate() string {
	return x.opts.Now().In(x.store.Location()).Format(time.DateOnly)
}

// daily is a River schedule: every day at a time past local midnight.
type daily struct {
	at  time.Duration
	loc *time.Location
}

// Next is the first such time after t. Built from the wall clock, so it stays at the same local time
// across daylight-saving changes.
func (d daily) Next(t time.Time) time.Time {
	local := t.In(d.loc)
	h, m := int(d.at.Hours()), int(d.at.Minutes())%60
	next := time.Date(local.Year(), local.Month(), local.Day(), h, m, 0, 0, d.loc)
	if !next.After(t) {
		next = time.Date(local.Year(), local.Month(), local.Day()+1, h, m, 0, 0, d.loc)
	}
	return next
}
