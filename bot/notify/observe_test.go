package notify

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/ledger/ledgertest"
)

func TestJobOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		err     error
		want    string
	}{
		{1, nil, "completed"},
		{1, errors.New("boom"), "retry"},
		{10, errors.New("boom"), "discarded"},
		{10, river.JobSnooze(0), "snoozed"},
		{1, river.JobCancel(errors.New("gone")), "cancelled"},
	}
	for _, tt := range tests {
		job := &rivertype.JobRow{Attempt: tt.attempt, MaxAttempts: 10}
		if got := jobOutcome(job, tt.err); got != tt.want {
			t.Errorf("jobOutcome(attempt %d, %v) = %s, want %s", tt.attempt, tt.err, got, tt.want)
		}
	}
}

// TestQueueDepth counts jobs waiting, by queue and state.
func TestQueueDepth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := ledgertest.NewPool(t)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(pool, nil, slog.New(slog.DiscardHandler)) // insert-only: nothing works the job
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(ctx, GiftArgs{GiftID: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := QueueDepth(ctx, pool)
	if err != nil || len(got) != 1 || got[0].Queue != "default" || got[0].State != "available" || got[0].Jobs != 1 {
		t.Errorf("QueueDepth = %+v, %v; want one available job in default", got, err)
	}
}
