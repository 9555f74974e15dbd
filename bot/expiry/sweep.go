package expiry

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"bonusbot/dialogs/metrics"
)

// SweepArgs is the daily expiry sweep of one local date.
type SweepArgs struct {
	Date string `json:"date"` // YYYY-MM-DD, local: the job's unique key
}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "expiry_sweep" }

// InsertOpts: one job per date, whoever inserts it and however often (a finished job counts too).
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// sweepJob inserts the day's sweep at SweepAt every night, and when a leader starts (so a day whose
// sweep time passed while nothing ran is swept at once).
func (x *Expiry) sweepJob() *river.PeriodicJob {
	return river.NewPeriodicJob(daily{x.opts.SweepAt, x.store.Location()},
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{Date: x.localDate()}, nil },
		&river.PeriodicJobOpts{ID: "expiry_sweep", RunOnStart: true})
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	x *Expiry
}

// Timeout: a backlog sweep (a missed week, a calendar-year new year) may run for minutes.
func (*sweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return time.Hour }

// Work sweeps today once (ledger.SweepDay); a date already swept is a no-op.
func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	run, err := w.x.store.SweepDay(ctx)
	if err != nil {
		return err
	}
	if run.Done {
		w.x.log.InfoContext(ctx, "expiry sweep: date already swept", "date", run.Date.Format(time.DateOnly), "finished", run.Finished)
		return nil
	}
	metrics.SweptLots.Add(float64(run.Lots))
	metrics.SweptPoints.Add(float64(run.Points))
	w.x.log.InfoContext(ctx, "expiry sweep done", "date", run.Date.Format(time.DateOnly), "lots", run.Lots, "points", run.Points)
	return nil
}
