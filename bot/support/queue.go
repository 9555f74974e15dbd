package support

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
)

// Posts into the support group (cards, copies, notes, answers to commands) go through one queue that
// one goroutine works in order, each post waiting for room in the group's rate limit: Telegram lets a
// bot post about 20 messages a minute into one group, and a burst of subscribers must neither be
// dropped nor reordered. A task is the whole of one relay (open the topic, post the card, copy the
// message), so its posts stay together.

var (
	errQueueFull   = errors.New("support: group queue is full")
	errQueueClosed = errors.New("support: group queue is closed")
)

type task struct {
	name string
	run  func(ctx context.Context) error
}

type queue struct {
	mu     sync.Mutex
	items  []task
	size   int
	closed bool
	wake   chan struct{} // a token when items arrive
	window *window
}

func newQueue(size int, w *window) *queue {
	return &queue{size: size, wake: make(chan struct{}, 1), window: w}
}

// push adds t behind everything queued.
func (q *queue) push(t task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return errQueueClosed
	case len(q.items) >= q.size:
		return errQueueFull
	}
	q.items = append(q.items, t)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

func (q *queue) pop() (task, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return task{}, false
	}
	t := q.items[0]
	q.items[0] = task{}
	q.items = q.items[1:]
	return t, true
}

// run works the queue until ctx ends and the queue is empty, or drain has passed since ctx ended.
// Tasks run on a context that outlives ctx by drain, so a shutdown finishes what the bot accepted.
func (q *queue) run(ctx context.Context, drain time.Duration, log *slog.Logger) {
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	// Once ctx ends, work ends after drain; the helper goroutine ends with run (stop is deferred).
	defer context.AfterFunc(ctx, func() {
		t := time.NewTimer(drain)
		defer t.Stop()
		select {
		case <-t.C:
			stop()
		case <-work.Done():
		}
	})()
	defer q.close(log)
	for {
		t, ok := q.pop()
		if !ok {
			if ctx.Err() != nil {
				return
			}
			select {
			case <-q.wake:
			case <-ctx.Done():
			}
			continue
		}
		if work.Err() != nil {
			q.mu.Lock()
			q.items = append([]task{t}, q.items...)
			q.mu.Unlock()
			return
		}
		if err := t.run(work); err != nil {
			log.ErrorContext(work, "support: group post failed", "task", t.name, "err", err)
		}
	}
}

// close refuses new tasks and reports what was left unposted.
func (q *queue) close(log *slog.Logger) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if n := len(q.items); n > 0 {
		log.Error("support: shutdown left group posts unsent", "count", n)
	}
	q.items = nil
}

// post makes one call into the group once the rate limit has room.
func (d *Desk) post(ctx context.Context, call func(ctx context.Context, api *tg.Bot) error) error {
	if err := d.queue.window.wait(ctx); err != nil {
		return err
	}
	return d.tg.Call(ctx, d.opts.ChatID, call)
}

// window allows n posts in any period per: a log of the last n posts' times.
type window struct {
	mu   sync.Mutex
	n    int
	per  time.Duration
	sent []time.Time
	now  func() time.Time
}

func newWindow(n int, per time.Duration, now func() time.Time) *window {
	return &window{n: n, per: per, now: now}
}

// reserve takes a slot and returns 0, or returns how long until one frees.
func (w *window) reserve() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	for len(w.sent) > 0 && now.Sub(w.sent[0]) >= w.per {
		w.sent = w.sent[1:]
	}
	if len(w.sent) < w.n {
		w.sent = append(w.sent, now)
		return 0
	}
	return w.per - now.Sub(w.sent[0])
}

func (w *window) wait(ctx context.Context) error {
	for {
		d := w.reserve()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
