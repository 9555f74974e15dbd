package bottest

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// The fake's webhook mode, modelled on tdlib/telegram-bot-api's WebhookActor: once setWebhook is
// called (and until deleteWebhook), pushed updates are POSTed as JSON with the secret header instead
// of waiting for getUpdates (which then answers 409). Updates of one chat go one at a time, in order:
// a chat's next update is sent only after the previous one was answered 2xx. At most max_connections
// are in flight. A non-2xx answer, a broken connection or a timeout sends the update again after a
// delay that doubles. The fake stands in for the load balancer too: it sends to its backends in turn.

// WebhookOptions set up delivery.
type WebhookOptions struct {
	Backends []string      // URLs of the replicas, tried in turn (the registered URL is a public name)
	Timeout  time.Duration // how long an answer is awaited (default 60 s, as Telegram)
	Retry    time.Duration // the first resend delay, doubling up to 8 times it (default 1 s)
	// Duplicate is the share of updates Telegram delivers twice: half of them time out on the first
	// try after DuplicateAfter (Telegram gave up while the replica was still handling), half lose their
	// 2xx answer (a connection that broke after the replica answered).
	Duplicate      float64
	DuplicateAfter time.Duration // default 50 ms
	Seed           uint64
}

// WebhookStats count what the delivery did.
type WebhookStats struct {
	Sent      int // requests made
	Failed    int // requests answered non-2xx, broken or timed out (including the ones made to fail)
	Answered  int // updates answered 2xx and taken off the queue
	Pending   int // updates not answered yet
	Duplicate int // updates chosen to be delivered twice
	// P50 and P99 are how long a 2xx answer took (the replica's handling, as Telegram waits for it).
	P50, P99 time.Duration
}

type hookUpdate struct {
	u       *models.Update
	tries   int
	wakeAt  time.Time
	delay   time.Duration
	dupKind int // 0 none, 1 time out the first try, 2 lose the first 2xx
}

type webhook struct {
	mu       sync.Mutex
	opts     WebhookOptions
	secret   string
	max      int
	active   bool
	queues   map[int64][]*hookUpdate // per chat, in order
	busy     map[int64]bool          // a chat with an update in flight
	inFlight int
	next     int // backend turn
	stats    WebhookStats
	answered map[int64]bool  // update ids answered 2xx
	took     []time.Duration // how long each 2xx answer took
	rng      *rand.Rand
	wake     chan struct{}
	stop     context.CancelFunc
	wg       sync.WaitGroup
	client   *http.Client
}

// DeliverWebhook turns on webhook delivery to opts.Backends; it starts sending once the bot calls
// setWebhook, and stops when the server is closed (Stop). Call it before the bot starts.
func (s *Server) DeliverWebhook(opts WebhookOptions) {
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Retry == 0 {
		opts.Retry = time.Second
	}
	if opts.DuplicateAfter == 0 {
		opts.DuplicateAfter = 50 * time.Millisecond
	}
	ctx, stop := context.WithCancel(context.Background())
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 100
	h := &webhook{opts: opts, queues: map[int64][]*hookUpdate{}, busy: map[int64]bool{}, answered: map[int64]bool{},
		rng: rand.New(rand.NewPCG(opts.Seed, 1)), wake: make(chan struct{}, 1), stop: stop, client: &http.Client{Transport: t}}
	s.mu.Lock()
	s.hook = h
	var last *Call // a webhook the bot set before delivery was turned on
	for i := range s.all {
		if c := &s.all[i]; c.Method == "setWebhook" || c.Method == "deleteWebhook" {
			last = c
		}
	}
	s.mu.Unlock()
	if last != nil {
		h.set(last.Method, last.Data)
	}
	h.wg.Add(1)
	go s.deliver(ctx, h)
}

// StopWebhook stops delivery and waits for the requests in flight.
func (s *Server) StopWebhook() {
	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	if h == nil {
		return
	}
	h.stop()
	h.wg.Wait()
}

// WebhookStats is what the delivery has done so far.
func (s *Server) WebhookStats() WebhookStats {
	s.mu.Lock()
	h, waiting := s.hook, len(s.updates)
	s.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.stats
	st.Pending = waiting
	for _, q := range h.queues {
		st.Pending += len(q)
	}
	if n := len(h.took); n > 0 {
		took := slices.Clone(h.took)
		slices.Sort(took)
		st.P50, st.P99 = took[n/2], took[n*99/100]
	}
	return st
}

// Close stops webhook delivery, if any, and shuts the server down.
func (s *Server) Close() {
	s.StopWebhook()
	s.Server.Close()
}

// Answered says whether Telegram was told update id was handled (a 2xx answer it received).
func (s *Server) Answered(id int64) bool {
	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.answered[id]
}

// serveWebhook answers setWebhook, deleteWebhook and, while a webhook is set, getUpdates; it says
// whether it answered.
func (s *Server) serveWebhook(w http.ResponseWriter, method string, data map[string]string) bool {
	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	switch method {
	case "setWebhook", "deleteWebhook":
		if h != nil {
			h.set(method, data)
		}
		s.mu.Lock()
		s.record(Call{Method: method, Data: data, At: time.Now()})
		s.mu.Unlock()
		ok200(w, true)
		return true
	case "getUpdates":
		if h == nil {
			return false
		}
		h.mu.Lock()
		active := h.active
		h.mu.Unlock()
		if active {
			reply(w, http.StatusConflict, map[string]any{"ok": false, "error_code": 409,
				"description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return true
		}
	}
	return false
}

// set applies setWebhook or deleteWebhook.
func (h *webhook) set(method string, data map[string]string) {
	h.mu.Lock()
	h.active = method == "setWebhook"
	h.secret = data["secret_token"]
	h.max, _ = strconv.Atoi(data["max_connections"])
	if h.max == 0 {
		h.max = 40
	}
	h.mu.Unlock()
	h.poke()
}

func (h *webhook) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// deliver moves pushed updates into per-chat queues and sends what may go, until ctx ends.
func (s *Server) deliver(ctx context.Context, h *webhook) {
	defer h.wg.Done()
	for {
		s.mu.Lock()
		fresh := s.updates
		changed := s.changed
		h.mu.Lock()
		if h.active {
			s.updates = nil
		} else {
			fresh = nil
		}
		s.mu.Unlock()
		for _, u := range fresh {
			hu := &hookUpdate{u: u, delay: h.opts.Retry}
			if h.rng.Float64() < h.opts.Duplicate {
				hu.dupKind = 1 + h.rng.IntN(2)
				h.stats.Duplicate++
			}
			chat := chatOf(u)
			h.queues[chat] = append(h.queues[chat], hu)
		}
		now := time.Now()
		wakeAt := now.Add(time.Hour)
		for chat, q := range h.queues {
			if h.inFlight >= h.max {
				break
			}
			if h.busy[chat] || len(q) == 0 {
				continue
			}
			hu := q[0]
			if hu.wakeAt.After(now) {
				wakeAt = minTime(wakeAt, hu.wakeAt)
				continue
			}
			h.busy[chat] = true
			h.inFlight++
			backend := h.opts.Backends[h.next%len(h.opts.Backends)]
			h.next++
			h.wg.Add(1)
			go func(chat int64, hu *hookUpdate) {
				defer h.wg.Done()
				ok := h.send(ctx, backend, hu)
				h.mu.Lock()
				h.busy[chat] = false
				h.inFlight--
				if ok {
					h.queues[chat] = h.queues[chat][1:]
					if len(h.queues[chat]) == 0 {
						delete(h.queues, chat)
					}
				}
				h.mu.Unlock()
				h.poke()
			}(chat, hu)
		}
		h.mu.Unlock()
		timer := time.NewTimer(time.Until(wakeAt))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-h.wake:
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// send posts one update and says whether it counts as answered; a failure schedules the resend.
func (h *webhook) send(ctx context.Context, backend string, hu *hookUpdate) bool {
	h.mu.Lock()
	hu.tries++
	first := hu.tries == 1
	timeout, secret := h.opts.Timeout, h.secret
	if first && hu.dupKind == 1 {
		timeout = h.opts.DuplicateAfter
	}
	h.stats.Sent++
	h.mu.Unlock()
	body, _ := json.Marshal(hu.u)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodPost, backend, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	sentAt := time.Now()
	resp, err := h.client.Do(req)
	ok := err == nil && resp.StatusCode/100 == 2
	if err == nil {
		resp.Body.Close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ok && first && hu.dupKind == 2 { // the answer is lost on the way back
		ok = false
	}
	if ok {
		h.stats.Answered++
		h.answered[hu.u.ID] = true
		h.took = append(h.took, time.Since(sentAt))
		return true
	}
	h.stats.Failed++
	hu.wakeAt = time.Now().Add(hu.delay)
	hu.delay = min(2*hu.delay, 8*h.opts.Retry)
	return false
}

func chatOf(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil:
		return u.CallbackQuery.Message.Message.Chat.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	}
	return 0
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Queued is how many updates wait for getUpdates: pushed and not confirmed by an offset.
func (s *Server) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}
