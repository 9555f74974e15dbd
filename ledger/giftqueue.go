package ledger

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// giftQueue commits concurrent gifts together. Submitting starts a runner goroutine when fewer than
// maxGiftRunners are at work; a runner takes up to maxGiftBatch waiting gifts, applies them in one
// transaction, hands each caller its answer, and exits once the queue is empty. So a lone gift runs at
// once in a batch of one, gifts that arrive while a batch commits share the next commit, and an idle
// Store has no goroutine to stop; Store.Close waits for the runners at work.
type giftQueue struct {
	store *Store

	mu      sync.Mutex
	pending []*giftCall
	runners int
	running sync.WaitGroup // the runners, for Store.Close
}

type giftCall struct {
	req  GiftRequest
	done chan giftOutcome
}

const (
	maxGiftBatch = 128
	// Two runners keep both cores busy while one batch waits on its commit; batches lock their accounts in
	// ascending order in one statement, so running them side by side cannot deadlock.
	maxGiftRunners   = 2
	giftBatchTimeout = 30 * time.Second
)

func (q *giftQueue) submit(ctx context.Context, g GiftRequest) (GiftReceipt, error) {
	call := &giftCall{req: g, done: make(chan giftOutcome, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, call)
	if q.runners < maxGiftRunners {
		q.runners++
		q.running.Go(q.run)
	}
	q.mu.Unlock()
	select {
	case o := <-call.done:
		return o.receipt, o.err
	case <-ctx.Done():
		// The gift may still commit; the sender sees it in the history, and it is applied once.
		return GiftReceipt{}, ctx.Err()
	}
}

func (q *giftQueue) run() {
	for {
		q.mu.Lock()
		n := min(len(q.pending), maxGiftBatch)
		if n == 0 {
			q.runners--
			q.mu.Unlock()
			return
		}
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		q.mu.Unlock()
		q.apply(batch)
	}
}

// apply runs one batch. Its context is its own, not a caller's: a caller that gives up must not cancel
// the gifts of the others riding in the same transaction.
func (q *giftQueue) apply(calls []*giftCall) {
	ctx, cancel := context.WithTimeout(context.Background(), giftBatchTimeout)
	defer cancel()
	reqs := make([]GiftRequest, len(calls))
	for i, c := range calls {
		reqs[i] = c.req
	}
	out, err := q.applyTx(ctx, reqs)
	if err != nil && len(calls) > 1 {
		// A fault in one gift must not fail the gifts that happened to share its transaction.
		for _, c := range calls {
			q.apply([]*giftCall{c})
		}
		return
	}
	for i, c := range calls {
		if err != nil {
			c.done <- giftOutcome{err: err}
		} else {
			c.done <- out[i]
		}
	}
}

// applyTx runs the batch's transaction. A panic becomes the batch's error: it runs on a goroutine of
// its own, where a panic would take the whole process down with every caller still waiting.
func (q *giftQueue) applyTx(ctx context.Context, reqs []GiftRequest) (out []giftOutcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("gift batch panicked: %v", r)
		}
	}()
	s := q.store
	return withTx(ctx, s.pool, func(tx pgx.Tx) ([]giftOutcome, error) {
		return s.giftBatchTx(ctx, tx, reqs, s.now())
	})
}
