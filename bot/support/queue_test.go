package support

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// TestWindow: at most n posts in any period; the next one waits for the oldest to leave the window.
func TestWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	w := newWindow(20, time.Minute, func() time.Time { return now })
	for i := range 20 {
		if d := w.reserve(); d != 0 {
			t.Fatalf("post %d waits %s, want 0 (20 a minute)", i+1, d)
		}
		now = now.Add(time.Second)
	}
	// 20 posts from 12:00:00 to 12:00:19; the 21st at 12:00:20 waits until 12:01:00.
	if d := w.reserve(); d != 40*time.Second {
		t.Fatalf("the 21st post waits %s, want 40s", d)
	}
	now = now.Add(40 * time.Second)
	if d := w.reserve(); d != 0 {
		t.Fatalf("at 12:01:00 the post waits %s, want 0", d)
	}
	if d := w.reserve(); d != time.Second {
		t.Fatalf("the next waits %s, want 1s (until the post of 12:00:01 leaves)", d)
	}
}

// TestQueueOrderAndDrain: tasks run one at a time in the order pushed; a full queue refuses; on
// shutdown what is queued still runs, and later pushes are refused.
func TestQueueOrderAndDrain(t *testing.T) {
	t.Parallel()
	q := newQueue(100, newWindow(1000, time.Minute, time.Now))
	var mu sync.Mutex
	var ran []int
	release := make(chan struct{})
	for i := range 100 {
		err := q.push(task{name: "t", run: func(ctx context.Context) error {
			if i == 0 {
				<-release // hold the worker so the rest pile up
			}
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := q.push(task{name: "over"}); !errors.Is(err, errQueueFull) {
		t.Fatalf("push beyond the size = %v, want errQueueFull", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.run(ctx, time.Minute, slog.New(slog.DiscardHandler)); close(done) }()
	cancel() // shutdown before the queue has been worked: it drains
	close(release)
	<-done
	if len(ran) != 100 {
		t.Fatalf("ran %d tasks, want all 100", len(ran))
	}
	for i, n := range ran {
		if n != i {
			t.Fatalf("task %d ran as number %d: order lost", n, i)
		}
	}
	if err := q.push(task{name: "late"}); !errors.Is(err, errQueueClosed) {
		t.Errorf("push after shutdown = %v, want errQueueClosed", err)
	}
}
