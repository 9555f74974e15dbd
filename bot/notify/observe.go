package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/bot/logs"
	"bonusbot/dialogs/metrics"
)

// observer is River middleware around every job this process works: the job's id and kind go into
// the context (and so into every log line of it), and its outcome and run time into the metrics.
type observer struct{ river.MiddlewareDefaults }

func (*observer) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(logs.WithJob(ctx, job.ID, job.Kind))
	metrics.Observe(metrics.Jobs, metrics.JobSeconds, job.Kind, jobOutcome(job, err), start)
	return err
}

// jobOutcome names what River does with a job after a run that returned err.
func jobOutcome(job *rivertype.JobRow, err error) string {
	var snooze *rivertype.JobSnoozeError
	var cancel *rivertype.JobCancelError
	switch {
	case err == nil:
		return "completed"
	case errors.As(err, &snooze):
		return "snoozed"
	case errors.As(err, &cancel):
		return "cancelled"
	case job.Attempt >= job.MaxAttempts:
		return "discarded"
	}
	return "retry"
}

// InsertTx adds a job in tx: it exists exactly when what tx writes does.
func (c *Client) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := c.river.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("notify: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertManyTx adds jobs in tx; a job whose unique twin exists already is skipped.
func (c *Client) InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if _, err := c.river.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("notify: insert %d jobs: %w", len(params), err)
	}
	return nil
}

// QueueDepth counts the River jobs in pool's schema not yet finished, by queue and state, for the
// metrics.
func QueueDepth(ctx context.Context, pool *pgxpool.Pool) ([]metrics.QueueCount, error) {
	rows, err := pool.Query(ctx, `SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("notify: queue depth: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[metrics.QueueCount])
	if err != nil {
		return nil, fmt.Errorf("notify: queue depth: %w", err)
	}
	return counts, nil
}
