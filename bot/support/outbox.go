package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"bonusbot/ledger"
)

// Posts into the support group (copies and their edits, cards, notes, closings) go through the ledger's outbox: a
// row is written while the update that caused it is handled, before Telegram is answered, so a
// replica that dies loses nothing; the one replica holding the outbox's lock posts the rows in
// order, each post waiting for room in the group's window, which lives in Redis so every replica
// counts against the same 20 a minute (ledger/support_outbox.go says why a lock and not River).
// A row is the whole of one relay (open the topic, post the card, copy the message), so its posts
// stay together.

// relayPost is a subscriber's message to copy into the account's topic.
type relayPost struct {
	Chat    int64 `json:"chat"`    // the subscriber's chat
	Message int   `json:"message"` // the message in it
	Account int64 `json:"account"`
}

// notePost is text for the agents: in the account's topic (remade if it was deleted), or with
// Account 0 in thread (0: General), as a reply to ReplyTo when that is not 0. A close posts the note
// and closes the topic.
type notePost struct {
	Account int64  `json:"account,omitempty"`
	Thread  int    `json:"thread,omitempty"`
	ReplyTo int    `json:"reply_to,omitempty"`
	Text    string `json:"text"`
}

// queuePost writes a post of kind into the outbox; it returns once the post is durable.
func (d *Desk) queuePost(ctx context.Context, kind string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("support: queue %s: %w", kind, err)
	}
	if _, err := d.store.QueueSupportPost(ctx, d.opts.ChatID, kind, payload); err != nil {
		return fmt.Errorf("support: queue %s: %w", kind, err)
	}
	return nil
}

// Run works the group's outbox until ctx ends, whenever this replica holds its lock; otherwise it
// checks every LockPoll whether the holder is gone. A post in hand when ctx ends may finish within
// DrainTimeout; the rest stays queued for the next replica. Run returns only after that.
func (d *Desk) Run(ctx context.Context) error {
	ob := d.store.SupportOutbox(d.opts.ChatID)
	defer ob.Close()
	for {
		locked, err := ob.TryLock(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			d.log.WarnContext(ctx, "support: outbox lock", "err", err)
		case locked:
			d.log.InfoContext(ctx, "support: working the group's outbox")
			err := d.work(ctx, ob)
			if ctx.Err() != nil {
				return nil
			}
			d.log.WarnContext(ctx, "support: outbox lock lost", "err", err)
		}
		if !sleep(ctx, d.opts.LockPoll) {
			return nil
		}
	}
}

// work posts the outbox's rows in order while ob holds the lock; it returns when ctx ends or the
// lock is lost.
func (d *Desk) work(ctx context.Context, ob *ledger.SupportOutbox) error {
	for ctx.Err() == nil {
		p, ok, err := ob.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			// A queued post wakes the wait (NOTIFY); the bound only guards against a lost wake-up.
			if err := ob.Wait(ctx, d.opts.LockPoll*10); err != nil {
				return err
			}
			continue
		}
		if err := d.postOne(ctx, ob, p); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// postOne makes one row's posts and settles the row: posted, failed for good (logged, never tried
// again) or to retry (it stays at the head, so order holds, after a pause growing with its attempts).
func (d *Desk) postOne(ctx context.Context, ob *ledger.SupportOutbox, p ledger.SupportPost) error {
	postCtx, stop := drainContext(ctx, d.opts.DrainTimeout)
	err := d.deliverPost(postCtx, p)
	stop()
	settle := context.WithoutCancel(ctx) // the outcome is recorded even as the replica stops
	switch {
	case err == nil:
		return ob.Posted(settle, p.ID)
	case permanent(err):
		d.log.ErrorContext(ctx, "support: group post failed for good", "post_id", p.ID, "kind", p.Kind, "err", err)
		return ob.Failed(settle, p.ID, err.Error())
	case ctx.Err() != nil: // cut off by the shutdown: the next holder posts it
		return nil
	}
	d.log.WarnContext(ctx, "support: group post failed; retrying", "post_id", p.ID, "kind", p.Kind, "attempt", p.Attempts+1, "err", err)
	if err := ob.Retry(settle, p.ID, err.Error()); err != nil {
		return err
	}
	sleep(ctx, retryPause(p.Attempts, err))
	return nil
}

// deliverPost makes the posts of one row.
func (d *Desk) deliverPost(ctx context.Context, p ledger.SupportPost) error {
	switch p.Kind {
	case ledger.SupportPostRelay:
		var r relayPost
		if err := json.Unmarshal(p.Payload, &r); err != nil {
			return fmt.Errorf("%w: %w", errBadPost, err)
		}
		return d.relayIn(ctx, r)
	case ledger.SupportPostEdit:
		var e editPost
		if err := json.Unmarshal(p.Payload, &e); err != nil {
			return fmt.Errorf("%w: %w", errBadPost, err)
		}
		return d.editIn(ctx, e)
	case ledger.SupportPostNote, ledger.SupportPostClose:
		var n notePost
		if err := json.Unmarshal(p.Payload, &n); err != nil {
			return fmt.Errorf("%w: %w", errBadPost, err)
		}
		if p.Kind == ledger.SupportPostClose {
			return d.closeIn(ctx, n)
		}
		return d.noteIn(ctx, n)
	}
	return fmt.Errorf("%w: kind %q", errBadPost, p.Kind)
}

// errBadPost is a row this version cannot read: retrying cannot help.
var errBadPost = errors.New("support: unreadable post")

// permanent says a post can never succeed as it is: Telegram refused it (400: the message to copy
// was deleted, 403: the bot is no longer in the group, 404), the account is unknown, or the row is
// unreadable. Everything else (the network, a 429 past the bot's retries, a 5xx, the database) may
// pass later.
func permanent(err error) bool {
	return errors.Is(err, tg.ErrorBadRequest) || errors.Is(err, tg.ErrorForbidden) || errors.Is(err, tg.ErrorNotFound) ||
		errors.Is(err, ledger.ErrUnknownAccount) || errors.Is(err, errBadPost)
}

// retryPause is how long a post that failed attempts times before waits: Telegram's retry_after if
// it said one, else 1 s doubling to a minute.
func retryPause(attempts int, err error) time.Duration {
	pause := time.Second << min(attempts, 6)
	var tooMany *tg.TooManyRequestsError
	if errors.As(err, &tooMany) {
		pause = max(pause, time.Duration(tooMany.RetryAfter)*time.Second)
	}
	return min(pause, time.Minute)
}

// drainContext is a context for work that should finish even as ctx ends: it ends drain after ctx
// does. stop releases it.
func drainContext(ctx context.Context, drain time.Duration) (context.Context, func()) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopAfter := context.AfterFunc(ctx, func() {
		t := time.NewTimer(drain)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-work.Done():
		}
	})
	return work, func() {
		cancel() // ends the AfterFunc's wait, if it started
		stopAfter()
	}
}

// sleep waits d or until ctx ends; it says whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// post makes one call into the group once the group's window has room.
func (d *Desk) post(ctx context.Context, call func(ctx context.Context, api *tg.Bot) error) error {
	if err := d.waitWindow(ctx); err != nil {
		return err
	}
	return d.tg.Call(ctx, d.opts.ChatID, call)
}

// waitWindow returns once the group's window, shared by every replica in Redis, has taken one post.
// Without Redis it counts in this replica's own window: only the outbox's holder posts, so that
// still holds unless the lock changes hands meanwhile.
func (d *Desk) waitWindow(ctx context.Context) error {
	for {
		wait, err := d.tg.ReserveGroupPost(ctx, d.opts.ChatID, d.opts.GroupRate, d.opts.GroupPer)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d.log.WarnContext(ctx, "support: group window: redis unavailable; counting in this replica", "err", err)
			wait = d.local.reserve()
		}
		if wait <= 0 {
			return nil
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// window allows n posts in any period per: a log of the last n posts' times. It stands in for the
// Redis window while Redis is unavailable.
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
