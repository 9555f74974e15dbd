package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"bonusbot/bot/notify"
	"bonusbot/dialogs/metrics"
	"bonusbot/ledger"
)

// metricsHandler is /metrics: the process's metrics (metrics.Registry), this server's Postgres pool,
// and what a scrape reads from the database — River's backlog, the last daily sweep and the support
// outbox.
func metricsHandler(store *ledger.Store) http.Handler {
	pool := store.Pool()
	return metrics.Handler(
		metrics.Pool(func() metrics.PoolStats {
			s := pool.Stat()
			return metrics.PoolStats{Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(), Max: s.MaxConns(),
				Acquires: s.AcquireCount(), EmptyAcquires: s.EmptyAcquireCount(), CanceledAcquires: s.CanceledAcquireCount(),
				AcquireWait: s.AcquireDuration()}
		}),
		metrics.Database(func(ctx context.Context) (metrics.DBState, error) {
			queues, qerr := notify.QueueDepth(ctx, pool)
			last, ok, lerr := store.LastSweep(ctx)
			outbox, oerr := store.SupportOutboxState(ctx)
			st := metrics.DBState{Queues: queues, SupportPending: outbox.Pending, SupportFailed: outbox.Failed,
				SupportOldest: outbox.OldestPending}
			if ok {
				st.LastSweep = last.Finished
			}
			return st, errors.Join(qerr, lerr, oerr)
		}),
	)
}

// observedStore is the ledger as the dialogs and the ingest API use it, with each business operation
// counted by outcome (ok, refused, error) and timed: bonusbot_ledger_operations_total and
// bonusbot_ledger_operation_duration_seconds. Methods it does not list pass through uncounted.
type observedStore struct{ *ledger.Store }

func observeOp[T any](op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	outcome := "ok"
	switch {
	case ledger.IsRefusal(err):
		outcome = "refused"
	case err != nil:
		outcome = "error"
	}
	metrics.Observe(metrics.LedgerOps, metrics.LedgerSeconds, op, outcome, start)
	return v, err
}

func (s observedStore) Balance(ctx context.Context, id int64) (ledger.Balance, error) {
	return observeOp("balance", func() (ledger.Balance, error) { return s.Store.Balance(ctx, id) })
}

func (s observedStore) Forecast(ctx context.Context, id int64, days int) ([]ledger.Burn, error) {
	return observeOp("forecast", func() ([]ledger.Burn, error) { return s.Store.Forecast(ctx, id, days) })
}

func (s observedStore) History(ctx context.Context, id, before int64, limit int) ([]ledger.Operation, error) {
	return observeOp("history", func() ([]ledger.Operation, error) { return s.Store.History(ctx, id, before, limit) })
}

func (s observedStore) Catalog(ctx context.Context) ([]ledger.Item, error) {
	return observeOp("catalog", func() ([]ledger.Item, error) { return s.Store.Catalog(ctx) })
}

func (s observedStore) Redeem(ctx context.Context, req ledger.RedeemRequest) (ledger.Order, error) {
	return observeOp("redeem", func() (ledger.Order, error) { return s.Store.Redeem(ctx, req) })
}

func (s observedStore) Gift(ctx context.Context, g ledger.GiftRequest) (ledger.GiftReceipt, error) {
	return observeOp("gift", func() (ledger.GiftReceipt, error) { return s.Store.Gift(ctx, g) })
}

func (s observedStore) AccountByPhone(ctx context.Context, phone string) (ledger.Account, error) {
	return observeOp("account_by_phone", func() (ledger.Account, error) { return s.Store.AccountByPhone(ctx, phone) })
}

func (s observedStore) Enrol(ctx context.Context, phone, accountOf string) (ledger.Account, error) {
	return observeOp("enrol", func() (ledger.Account, error) { return s.Store.Enrol(ctx, phone, accountOf) })
}

func (s observedStore) LinkedAccount(ctx context.Context, channel string, userID int64) (ledger.Link, error) {
	return observeOp("linked_account", func() (ledger.Link, error) { return s.Store.LinkedAccount(ctx, channel, userID) })
}

func (s observedStore) Link(ctx context.Context, l ledger.Link) (ledger.Link, error) {
	return observeOp("link", func() (ledger.Link, error) { return s.Store.Link(ctx, l) })
}

func (s observedStore) SetBlocked(ctx context.Context, id int64, blocked bool) error {
	_, err := observeOp("set_blocked", func() (struct{}, error) { return struct{}{}, s.Store.SetBlocked(ctx, id, blocked) })
	return err
}

// AccrueBatch counts the batch as one operation: its error is a fault of the whole batch; per-event
// refusals are answers, not failures of the operation.
func (s observedStore) AccrueBatch(ctx context.Context, events []ledger.Event) ([]ledger.AccrualResult, []error, error) {
	var refused []error
	res, err := observeOp("accrue_batch", func() ([]ledger.AccrualResult, error) {
		r, perEvent, err := s.Store.AccrueBatch(ctx, events)
		refused = perEvent
		return r, err
	})
	return res, refused, err
}
