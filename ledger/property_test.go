package ledger_test

import (
	"errors"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

// refusals are the answers a random operation may legitimately get; anything else is a bug.
var refusals = []error{
	ledger.ErrInsufficientPoints, ledger.ErrOutOfStock, ledger.ErrAlreadyReversed, ledger.ErrGiftToSelf,
	ledger.ErrGiftDailyLimit, ledger.ErrGiftMonthlyLimit, ledger.ErrOrderSettled, ledger.ErrUnknownEvent,
	ledger.ErrAccountBlocked, ledger.ErrGiftRecipient, ledger.ErrExpiredEvent,
}

func isRefusal(err error) bool {
	for _, r := range refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// soakOps, set by `make soak`, runs the property below until it has done at least that many
// operations, in batches of up to 64 with the clock moving at most 3 days between them, checking the
// invariants every 100 batches and at the end, and prints the count and the invariant breaks.
var soakOps = flag.Int64("soak.ops", 0, "soak: run the random-concurrency property for at least this many operations")

// TestLedgerInvariantsUnderRandomConcurrency runs random batches of accruals, reversals, redemptions,
// refunds, gifts, blocks and sweeps concurrently on a few accounts, moving the clock between batches,
// and checks the ledger's invariants after every batch.
func TestLedgerInvariantsUnderRandomConcurrency(t *testing.T) {
	t.Parallel()
	maxOps, maxDays, checkEvery := 12, 40, int64(1)
	if *soakOps > 0 {
		maxOps, maxDays, checkEvery = 64, 3, 100
	}
	var opsDone, batches atomic.Int64
	breaks := &countingTB{}
	clock := ledgertest.NewClock(at(2026, 1, 1, 12, 0))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	phones := []string{"+79160000001", "+79160000002", "+79160000003", "+79160000004"}
	stock := int64(20)
	if err := store.UpsertItems(ctx, []ledger.Item{
		{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 texts", Cost: 170, Active: true},
		{Code: "9", Category: "sms", TitleRU: "x", TitleEN: "x", Cost: 7, Stock: &stock, Active: true},
	}); err != nil {
		t.Fatal(err)
	}
	var eventSeq atomic.Int64
	var mu sync.Mutex
	var orders []int64
	var eventIDs []string

	// withAccount runs fn on the phone's account; a phone no accrual has enrolled yet is a no-op.
	withAccount := func(phone string, fn func(id int64) error) error {
		acct, err := store.AccountByPhone(ctx, phone)
		if errors.Is(err, ledger.ErrUnknownPhone) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(acct.ID)
	}

	property := func(rt *rapid.T) {
		type op func() error
		n := rapid.IntRange(1, maxOps).Draw(rt, "ops")
		ops := make([]op, 0, n)
		for i := range n {
			phone := rapid.SampledFrom(phones).Draw(rt, fmt.Sprint("phone", i))
			switch kind := rapid.IntRange(0, 7).Draw(rt, fmt.Sprint("kind", i)); kind {
			case 0, 1:
				kop := rapid.Int64Range(0, 300000).Draw(rt, fmt.Sprint("kop", i))
				back := rapid.IntRange(0, 400).Draw(rt, fmt.Sprint("back", i))
				ops = append(ops, func() error {
					id := fmt.Sprint("ev", eventSeq.Add(1))
					_, err := store.Accrue(ctx, ledger.Event{ID: id, Phone: phone, Category: "mobile", Amount: &kop,
						OccurredAt: clock.Now().AddDate(0, 0, -back)})
					if err == nil {
						mu.Lock()
						eventIDs = append(eventIDs, id)
						mu.Unlock()
					}
					return err
				})
			case 2:
				pick := rapid.IntRange(0, 1000).Draw(rt, fmt.Sprint("rev", i))
				ops = append(ops, func() error {
					orig, ok := pickOne(&mu, &eventIDs, pick)
					if !ok {
						return nil
					}
					_, err := store.Accrue(ctx, ledger.Event{ID: fmt.Sprint("rev", eventSeq.Add(1)), Reverses: orig, OccurredAt: clock.Now()})
					return err
				})
			case 3:
				code := rapid.SampledFrom([]string{"22", "9"}).Draw(rt, fmt.Sprint("code", i))
				ops = append(ops, func() error {
					return withAccount(phone, func(id int64) error {
						o, err := store.Redeem(ctx, ledger.RedeemRequest{AccountID: id, Code: code})
						if err == nil {
							mu.Lock()
							orders = append(orders, o.ID)
							mu.Unlock()
						}
						return err
					})
				})
			case 4:
				pick := rapid.IntRange(0, 1000).Draw(rt, fmt.Sprint("order", i))
				fail := rapid.Bool().Draw(rt, fmt.Sprint("fail", i))
				ops = append(ops, func() error {
					id, ok := pickOne(&mu, &orders, pick)
					if !ok {
						return nil
					}
					var err error
					if fail {
						_, err = store.FailOrder(ctx, id)
					} else {
						_, err = store.CompleteOrder(ctx, id)
					}
					return err
				})
			case 5:
				to := rapid.SampledFrom(phones).Draw(rt, fmt.Sprint("to", i))
				pts := rapid.Int64Range(1, ledger.MaxGift).Draw(rt, fmt.Sprint("pts", i))
				ops = append(ops, func() error {
					return withAccount(phone, func(id int64) error {
						_, err := store.Gift(ctx, ledger.GiftRequest{From: id, To: to, Points: pts})
						return err
					})
				})
			case 6:
				ops = append(ops, func() error {
					_, err := store.Expire(ctx, clock.Now(), 3)
					return err
				})
			case 7:
				block := rapid.Bool().Draw(rt, fmt.Sprint("block", i))
				ops = append(ops, func() error {
					return withAccount(phone, func(id int64) error { return store.SetBlocked(ctx, id, block) })
				})
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(ops))
		for _, o := range ops {
			wg.Go(func() { errs <- o() })
		}
		opsDone.Add(int64(len(ops)))
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !isRefusal(err) {
				rt.Fatalf("unexpected error: %v", err)
			}
		}
		clock.Add(time.Duration(rapid.IntRange(0, maxDays).Draw(rt, "days")) * 24 * time.Hour)
		if batches.Add(1)%checkEvery == 0 {
			breaks.TB = rt
			ledgertest.CheckInvariants(breaks, store.Pool())
		}
		for _, p := range phones {
			acct, err := store.AccountByPhone(ctx, p)
			if err != nil {
				continue
			}
			b, err := store.Balance(ctx, acct.ID)
			if err != nil {
				rt.Fatal(err)
			}
			lots, _ := store.Lots(ctx, acct.ID)
			var sum int64
			for _, l := range lots {
				sum += l.Points
			}
			if b.Points != sum || b.Points < 0 {
				rt.Fatalf("%s: balance %d, lots sum %d", p, b.Points, sum)
			}
		}
	}
	start := time.Now()
	rapid.Check(t, property)
	for *soakOps > 0 && opsDone.Load() < *soakOps && !t.Failed() {
		rapid.Check(t, property)
	}
	if *soakOps > 0 {
		breaks.TB = t
		ledgertest.CheckInvariants(breaks, store.Pool())
		fmt.Printf("soak: %d operations in %d concurrent batches, %s; invariant breaks: %d\n",
			opsDone.Load(), batches.Load(), time.Since(start).Round(time.Second), breaks.n.Load())
	}
}

// countingTB counts the invariant checks that fail while passing them on to the test.
type countingTB struct {
	ledgertest.TB
	n atomic.Int64
}

func (c *countingTB) Errorf(format string, args ...any) { c.n.Add(1); c.TB.Errorf(format, args...) }
func (c *countingTB) Fatalf(format string, args ...any) { c.n.Add(1); c.TB.Fatalf(format, args...) }

// pickOne returns (*list)[pick % len], read under mu, or false while the list is empty.
func pickOne[T any](mu *sync.Mutex, list *[]T, pick int) (T, bool) {
	mu.Lock()
	defer mu.Unlock()
	var zero T
	if len(*list) == 0 {
		return zero, false
	}
	return (*list)[pick%len(*list)], true
}
