package bot

import (
	"context"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// dispatcher handles updates of one chat in order, one at a time, and different chats in parallel,
// at most max at once: two quick taps must not race each other's dialog state. Its handlers run on a
// context of its own, so a shutdown first stops the intake (close) and lets the updates in hand finish
// (drain), and cancels them only when the grace period is over. Every goroutine it starts has ended
// when drain returns.
type dispatcher struct {
	mu     sync.Mutex
	queues map[int64][]job // pending, per chat; a chat's presence means a goroutine drains it
	closed bool
	sem    chan struct{}
	wg     sync.WaitGroup
	handle func(context.Context, *models.Update) bool
	work   context.Context
	abort  context.CancelFunc
}

// job is an update and what to call once it is over: handled says whether it was handled (or found
// handled before), so Telegram may be told; false means it was given up and must come again.
type job struct {
	u    *models.Update
	done func(handled bool)
}

func newDispatcher(max int, handle func(context.Context, *models.Update) bool) *dispatcher {
	work, abort := context.WithCancel(context.Background())
	return &dispatcher{queues: map[int64][]job{}, sem: make(chan struct{}, max), handle: handle, work: work, abort: abort}
}

// push queues u behind its chat's earlier updates; done, if not nil, is called when it is over. It
// never blocks on handling. After close it queues nothing and returns false.
func (d *dispatcher) push(u *models.Update, done func(handled bool)) bool {
	chat := chatID(u)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	q, running := d.queues[chat]
	d.queues[chat] = append(q, job{u, done})
	if !running {
		d.wg.Add(1)
		go d.drain(chat)
	}
	return true
}

// drain runs chat's queue until it is empty.
func (d *dispatcher) drain(chat int64) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		q := d.queues[chat]
		if len(q) == 0 {
			delete(d.queues, chat)
			d.mu.Unlock()
			return
		}
		j := q[0]
		d.queues[chat] = q[1:]
		d.mu.Unlock()

		handled := false
		select {
		case d.sem <- struct{}{}:
			if d.work.Err() == nil { // once aborted, what has not started is given back, not begun
				handled = d.handle(d.work, j.u)
			}
			<-d.sem
		case <-d.work.Done():
		}
		if j.done != nil {
			j.done(handled)
		}
	}
}

// close stops the intake: later pushes are refused.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

// shutdown closes the intake and waits for the updates queued and in hand; after grace it cancels
// them (they end as not handled) and waits for their goroutines. It says whether all finished in time.
func (d *dispatcher) shutdown(grace time.Duration) bool {
	d.close()
	idle := make(chan struct{})
	go func() { // ends with the last drain: the cancel below makes sure one comes
		d.wg.Wait()
		close(idle)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-idle:
		d.abort()
		return true
	case <-timer.C:
	}
	d.abort()
	<-idle
	return false
}

// chatID is the chat an update belongs to (0 for kinds the bot does not ask for).
func chatID(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID
	case u.CallbackQuery != nil:
		switch m := u.CallbackQuery.Message; {
		case m.Message != nil:
			return m.Message.Chat.ID
		case m.InaccessibleMessage != nil:
			return m.InaccessibleMessage.Chat.ID
		}
		return u.CallbackQuery.From.ID
	}
	return 0
}
