package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/sync/errgroup"
)

// Polling, and what is guaranteed. Telegram keeps every update until a getUpdates names a higher
// offset, which confirms all below it. The poller asks for updates from the oldest one it has not
// finished, so an update is confirmed only once it has been handled (or given up at a shutdown past
// SHUTDOWN_GRACE, which leaves it unconfirmed); it keeps polling while earlier updates are in hand and
// skips what it already holds. A replica that takes the lease over from a dead one gets again every
// update that was not confirmed: those marked done are skipped, one still claimed waits until the
// claim lapses, and the rest are handled. So no confirmed update is lost (at-least-once), and none is
// handled twice (at-most-once) except one whose handler died midway: it runs again from the start,
// and what it had already done — a reply sent, a code texted — may happen twice; spends and gifts
// carry idempotency keys and do not.

// Run polls while it holds the lease, until ctx ends or polling fails for good (a revoked token);
// then it stops taking updates, lets those in hand finish within ShutdownGrace, confirms the offset
// and returns the error that stopped it (nil after ctx ended). A second replica with the same token
// waits for the lease instead of fighting over getUpdates, and takes over when the holder dies.
func (b *Bot) Run(ctx context.Context) error {
	lease := newLease(b.rdb, b.opts.Prefix+"bot:lease:"+b.hash, b.opts.LeaseTTL, b.log) // the key earlier versions use too
	renewing, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	g.Go(func() error { b.claims.run(renewing); return nil })
	defer func() {
		stopRenewing()
		g.Wait()
	}()
	for {
		held, release, err := lease.acquire(ctx)
		if err != nil {
			return nil // ctx ended while waiting
		}
		err = b.poll(ctx, held)
		release()
		if err != nil || ctx.Err() != nil {
			return err
		}
		b.log.Warn("telegram lease lost; waiting to poll again")
	}
}

// poll takes updates while held lasts, then finishes those in hand; on ctx's end it confirms them.
func (b *Bot) poll(ctx, held context.Context) error {
	// A webhook left by BOT_MODE=webhook would make every getUpdates fail with 409.
	if _, err := b.api.DeleteWebhook(held, &tg.DeleteWebhookParams{}); err != nil {
		b.log.Warn("deleteWebhook failed", "err", err)
	}
	if err := b.announce(held); err != nil {
		b.log.Warn("announcing commands failed", "err", err)
	}
	b.log.Info("telegram polling started")
	d := newDispatcher(b.opts.MaxInFlight, b.handleOnce)
	offs := newOffsets()
	err := b.fetch(held, d, offs)
	if !d.shutdown(b.opts.ShutdownGrace) {
		b.log.Warn("updates in hand cancelled after the shutdown grace; Telegram sends them again", "grace", b.opts.ShutdownGrace.String())
	}
	if ctx.Err() != nil || err != nil {
		// Confirm what was handled. After losing the lease this is left to the new holder, whose
		// long poll a getUpdates of ours would cut short.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, cerr := b.getUpdates(cctx, offs.offset(), 1, 0); cerr != nil {
			b.log.Warn("confirming the polling offset failed; the next poller skips what was handled by its done marks", "err", cerr)
		}
	}
	return err
}

// fetch long-polls and hands updates to d until held ends; its error is a fault that stops polling.
func (b *Bot) fetch(held context.Context, d *dispatcher, offs *offsets) error {
	var backoff time.Duration
	for held.Err() == nil {
		updates, err := b.getUpdates(held, offs.offset(), 100, b.opts.PollTimeout)
		var apiErr *apiError
		switch {
		case held.Err() != nil:
			return nil
		case errors.As(err, &apiErr) && (apiErr.Code == 401 || apiErr.Code == 404):
			return err // the token was revoked or is wrong: no retry will help
		case errors.As(err, &apiErr) && apiErr.Code == 409 && apiErr.webhookActive():
			if _, err := b.api.DeleteWebhook(held, &tg.DeleteWebhookParams{}); err != nil {
				b.log.Warn("deleteWebhook failed", "err", err)
			}
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
			if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
				backoff = time.Duration(apiErr.RetryAfter) * time.Second
			}
			b.log.Warn("getUpdates failed", "err", err, "retry_in", backoff.String())
			if sleep(held, backoff) != nil {
				return nil
			}
			continue
		}
		backoff = 0
		fresh, progress, busy := offs.take(updates)
		for _, u := range fresh {
			id := u.ID
			d.push(u, func(handled bool) { offs.finish(id, handled) })
		}
		if len(fresh) == 0 && len(updates) > 0 && busy { // all taken already: wait until one in hand finishes
			select {
			case <-progress:
			case <-held.Done():
			}
		}
	}
	return nil
}

// sleep waits d or until ctx ends (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// offsets tracks the updates a poller has taken: the offset to poll from is the oldest one not
// finished, or the one after the newest seen.
type offsets struct {
	mu       sync.Mutex
	next     int64          // the offset when nothing is in hand
	inHand   map[int64]bool // taken, not confirmable yet; true once finished
	progress chan struct{}  // closed and replaced whenever one finishes
}

func newOffsets() *offsets {
	return &offsets{inHand: map[int64]bool{}, progress: make(chan struct{})}
}

// take returns the updates not taken before, a channel closed when one of those in hand finishes, and
// whether any is in hand unfinished (else nothing will close the channel: the offset can move now).
func (o *offsets) take(updates []*models.Update) (fresh []*models.Update, progress <-chan struct{}, busy bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range updates {
		if _, seen := o.inHand[u.ID]; seen || u.ID < o.next {
			continue
		}
		o.inHand[u.ID] = false
		o.next = max(o.next, u.ID+1)
		fresh = append(fresh, u)
	}
	for _, finished := range o.inHand {
		busy = busy || !finished
	}
	return fresh, o.progress, busy
}

// finish records the end of update id; one that was not handled keeps the offset below it.
func (o *offsets) finish(id int64, handled bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if handled {
		o.inHand[id] = true
	}
	close(o.progress)
	o.progress = make(chan struct{})
}

// offset is where the next getUpdates starts: everything below is handled.
func (o *offsets) offset() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]int64, 0, len(o.inHand))
	for id := range o.inHand {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if !o.inHand[id] {
			return id
		}
		delete(o.inHand, id) // finished below every unfinished one: confirmable, forgotten
	}
	return o.next
}
