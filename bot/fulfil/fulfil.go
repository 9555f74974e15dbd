// Package fulfil delivers redeemed rewards. Each order is a River job inserted in the order's own
// transaction (ledger.Options.OnRedeem), so an order never waits without one. With a partner URL
// (FULFILMENT_URL) the job POSTs the order as JSON with an idempotency key: a 2xx fulfils it, any
// other 4xx refuses it and it fails with a refund, and a 5xx, 408, 425, 429 or no answer is retried
// with backoff (8 attempts over about an hour) before it too fails with a refund; the subscriber is
// told the outcome in their chats, or by SMS. Without a URL (the demo) an order is fulfilled at once
// and nothing more is said: the redeem reply already said it.
package fulfil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/bot/notify"
	"bonusbot/dialogs"
	"bonusbot/dialogs/metrics"
	"bonusbot/ledger"
)

// Store is what fulfilment needs of the ledger (*ledger.Store).
type Store interface {
	OrderDetails(ctx context.Context, orderID int64) (ledger.OrderDetails, error)
	CompleteOrder(ctx context.Context, orderID int64) (ledger.Order, error)
	FailOrder(ctx context.Context, orderID int64) (ledger.Order, error)
	PlacedOrders(ctx context.Context, before time.Time, limit int) ([]int64, error)
	Balance(ctx context.Context, accountID int64) (ledger.Balance, error)
	LinksForAccount(ctx context.Context, accountID int64) ([]ledger.Link, error)
}

// Options tune fulfilment. The zero value fulfils every order at once.
type Options struct {
	URL     string        // FULFILMENT_URL: the partner's endpoint; empty: fulfil at once
	Token   string        // FULFILMENT_TOKEN: sent as "Authorization: Bearer …" when set
	Timeout time.Duration // FULFILMENT_TIMEOUT: one request's deadline (10 s)
	Client  *http.Client
	Now     func() time.Time
}

// Queue is the River queue of fulfilment jobs: a partner that is slow or down holds up only its own
// orders, never gift notices.
const Queue = "fulfilment"

// Attempts bounds the tries of one order before it fails and is refunded.
const Attempts = 8

// Args is one order to fulfil.
type Args struct {
	OrderID int64 `json:"order_id"`
}

// Kind names the job in River's table.
func (Args) Kind() string { return "order_fulfil" }

// InsertOpts: one job per order.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: Attempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Inserter adds a job in a transaction (*notify.Client).
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// OnRedeem is ledger.Options.OnRedeem: it queues the order's fulfilment in the order's transaction.
func OnRedeem(jobs Inserter) func(ctx context.Context, tx pgx.Tx, o ledger.Order) error {
	return func(ctx context.Context, tx pgx.Tx, o ledger.Order) error {
		return jobs.InsertTx(ctx, tx, Args{OrderID: o.ID}, nil)
	}
}

// Fulfil owns the fulfilment jobs.
type Fulfil struct {
	store Store
	chats map[string]notify.Chat // by channel; filled by the caller before River starts
	sms   dialogs.SMS
	texts notify.Renderer
	log   *slog.Logger
	opts  Options
}

// New returns fulfilment; chats may be filled in later, before River starts working.
func New(store Store, chats map[string]notify.Chat, sms dialogs.SMS, texts notify.Renderer, log *slog.Logger, opts Options) *Fulfil {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Timeout}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Fulfil{store: store, chats: chats, sms: sms, texts: texts, log: log, opts: opts}
}

// Jobs are the worker, its queue and the catch-up sweep, for notify.NewClient.
func (f *Fulfil) Jobs() notify.Jobs {
	return notify.Jobs{
		Add: func(w *river.Workers) {
			river.AddWorker(w, &worker{f: f})
			river.AddWorker(w, &sweepWorker{f: f})
		},
		Queues: map[string]river.QueueConfig{Queue: {MaxWorkers: 4}},
		Periodic: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(sweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: "order_fulfil_sweep", RunOnStart: true})},
	}
}

type worker struct {
	river.WorkerDefaults[Args]
	f *Fulfil
}

// Timeout leaves room for the partner's deadline and the ledger's writes.
func (w *worker) Timeout(*river.Job[Args]) time.Duration { return w.f.opts.Timeout + 30*time.Second }

// NextRetry backs off from 30 s, doubling to at most 30 min: 8 attempts span about an hour.
func (*worker) NextRetry(job *river.Job[Args]) time.Time {
	return time.Now().Add(backoff(job.Attempt))
}

func backoff(attempt int) time.Duration {
	return min(30*time.Second<<min(max(attempt-1, 0), 10), 30*time.Minute)
}

// Work fulfils or fails the order, then tells the subscriber. A retry after the order was settled
// only tells.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	d, err := w.f.store.OrderDetails(ctx, job.Args.OrderID)
	if errors.Is(err, ledger.ErrUnknownOrder) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if d.Status == "placed" {
		ok, err := w.f.ask(ctx, d)
		if err != nil {
			if job.Attempt < job.MaxAttempts {
				return err
			}
			w.f.log.WarnContext(ctx, "fulfilment: partner never answered; refunding", "order_id", d.ID, "attempts", job.Attempt, "err", err)
		}
		if d, err = w.f.settle(ctx, d, ok); err != nil {
			return err
		}
	}
	if w.f.opts.URL == "" {
		return nil
	}
	return w.f.tell(ctx, d)
}

// settle records the outcome: fulfilled, or failed with the points back.
func (f *Fulfil) settle(ctx context.Context, d ledger.OrderDetails, ok bool) (ledger.OrderDetails, error) {
	settle, outcome := f.store.FailOrder, "refunded"
	if ok {
		settle, outcome = f.store.CompleteOrder, "fulfilled"
	}
	o, err := settle(ctx, d.ID)
	if errors.Is(err, ledger.ErrOrderSettled) {
		return f.store.OrderDetails(ctx, d.ID) // settled meanwhile (support): tell what it is
	}
	if err != nil {
		return d, err
	}
	metrics.Fulfilments.WithLabelValues(outcome).Inc()
	f.log.InfoContext(ctx, "order settled", "order_id", d.ID, "outcome", outcome)
	d.Status = o.Status
	return d, nil
}

// tell words the outcome in each of the subscriber's active chats, or by SMS when none took it.
func (f *Fulfil) tell(ctx context.Context, d ledger.OrderDetails) error {
	id := "notice.order.done"
	var balance int64
	if d.Status == "failed" {
		id = "notice.order.failed"
		b, err := f.store.Balance(ctx, d.AccountID)
		if err != nil {
			return err
		}
		balance = b.Points
	}
	text := func(lang string) string {
		return f.texts.Render(lang, dialogs.T(id, "Title", dialogs.ItemTitle(lang, d.Item), "Cost", d.Cost, "Balance", balance))
	}
	links, err := f.store.LinksForAccount(ctx, d.AccountID)
	if err != nil {
		return err
	}
	told, _ := notify.TellChats(ctx, f.chats, links, func(chat notify.Chat, l ledger.Link) error {
		return chat.Notify(ctx, l.ChatID, text(l.Language))
	}, f.log, "order notice", "order_id", d.ID)
	if told != "" || d.Phone == "" {
		return nil
	}
	if err := f.sms.Send(ctx, d.Phone, text("ru")); err != nil {
		return fmt.Errorf("fulfil: order %d notice: %w", d.ID, err)
	}
	return nil
}

// sweepEvery is how often placed orders without a live job are looked for.
const sweepEvery = 10 * time.Minute

// SweepArgs queues fulfilment for orders that have none: placed before fulfilment jobs existed, or
// whose job River discarded.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "order_fulfil_sweep" }

// InsertOpts: one sweep waiting or running at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable,
		rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	f *Fulfil
}

// Work queues a job for every order placed over sweepEvery ago and still unsettled; an order whose
// job is still waiting or retrying keeps it (unique by order).
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	ids, err := w.f.store.PlacedOrders(ctx, w.f.opts.Now().Add(-sweepEvery), 1000)
	if err != nil || len(ids) == 0 {
		return err
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: Args{OrderID: id}}
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return fmt.Errorf("fulfil: sweep: %w", err)
	}
	queued := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			queued++
		}
	}
	if queued > 0 {
		w.f.log.InfoContext(ctx, "fulfilment: queued orders that had no job", "orders", queued)
	}
	return nil
}
