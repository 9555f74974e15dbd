package bot

import (
	"context"
	"sync"

	"github.com/go-telegram/bot/models"
)

// dispatcher handles updates of one chat in order, one at a time, and different chats in parallel,
// at most max at once. go-telegram/bot would run every update in its own goroutine, so two quick
// taps would race each other's dialog state.
type dispatcher struct {
	mu     sync.Mutex
	queues map[int64][]*models.Update // pending, per chat
	sem    chan struct{}
	wg     sync.WaitGroup
	handle func(context.Context, *models.Update)
}

func newDispatcher(max int, handle func(context.Context, *models.Update)) *dispatcher {
	return &dispatcher{queues: map[int64][]*models.Update{}, sem: make(chan struct{}, max), handle: handle}
}

// push queues u behind its chat's earlier updates. It never blocks on handling.
func (d *dispatcher) push(u *models.Update) {
	chat := chatID(u)
	d.mu.Lock()
	defer d.mu.Unlock()
	q, running := d.queues[chat]
	d.queues[chat] = append(q, u)
	if !running {
		d.wg.Add(1)
		go d.drain(chat)
	}
}

// drain runs chat's queue until it is empty; the queue's presence in the map means a drain runs.
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
		u := q[0]
		d.queues[chat] = q[1:]
		d.mu.Unlock()

		d.sem <- struct{}{}
		// Updates in hand finish even after shutdown starts: they are not tied to the polling context.
		d.handle(context.Background(), u)
		<-d.sem
	}
}

// wait returns once every queued update has been handled.
func (d *dispatcher) wait() { d.wg.Wait() }

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
