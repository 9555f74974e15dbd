package support

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/bot/notify"
	"bonusbot/dialogs"
)

// Idle conversations close in a River job, not a timer in memory: a periodic sweep (on whichever
// replica River's leader schedules it) closes every conversation without a message for Idle, notes
// it in the topic and closes the topic. The subscriber's next message reopens it.

// IdleArgs is the sweep job.
type IdleArgs struct{}

// Kind names the job in River's table.
func (IdleArgs) Kind() string { return "support_idle" }

// InsertOpts: one sweep waiting or running at a time is plenty; a finished one does not count.
func (IdleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable,
		rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// IdleWorker runs the sweep.
type IdleWorker struct {
	river.WorkerDefaults[IdleArgs]
	d *Desk
}

// Work closes idle conversations.
func (w *IdleWorker) Work(ctx context.Context, _ *river.Job[IdleArgs]) error {
	return w.d.CloseIdle(ctx)
}

// IdleWorker is the River worker of the sweep; register it on the process's River client.
func (d *Desk) IdleWorker() *IdleWorker { return &IdleWorker{d: d} }

// IdleJob schedules the sweep every Options.IdleEvery, and once when River starts.
func (d *Desk) IdleJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d.opts.IdleEvery),
		func() (river.JobArgs, *river.InsertOpts) { return IdleArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "support_idle"})
}

// Jobs are the Desk's River jobs, for notify.NewClient.
func (d *Desk) Jobs() notify.Jobs {
	return notify.Jobs{Add: func(w *river.Workers) { river.AddWorker(w, d.IdleWorker()) }, Periodic: []*river.PeriodicJob{d.IdleJob()}}
}

// idleBatch bounds one statement of the sweep.
const idleBatch = 100

// CloseIdle closes every conversation idle for Options.Idle and queues the note and the topic's
// closing for each.
func (d *Desk) CloseIdle(ctx context.Context) error {
	for {
		cs, err := d.store.CloseIdleConversations(ctx, d.opts.Idle, idleBatch)
		if err != nil {
			return err
		}
		for _, c := range cs {
			t, ok, err := d.store.Topic(ctx, c.ChatID, c.AccountID)
			if err != nil {
				return err
			}
			if !ok || c.ChatID != d.opts.ChatID {
				continue
			}
			d.log.InfoContext(ctx, "support: conversation closed as idle", "account_id", c.AccountID, "conversation_id", c.ID)
			d.closeTopic(ctx, c.AccountID, t.ThreadID, dialogs.T("agent.idle", "Idle", span(d.opts.Idle)))
		}
		if len(cs) < idleBatch {
			return nil
		}
	}
}

// span writes a duration the way the team reads it: "24 ч", "1 ч 30 мин", "45 мин".
func span(d time.Duration) string {
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d\u00a0мин", m)
	case m == 0:
		return fmt.Sprintf("%d\u00a0ч", h)
	}
	return fmt.Sprintf("%d\u00a0ч %d\u00a0мин", h, m)
}
