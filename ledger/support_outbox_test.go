package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bonusbot/ledger"
)

// TestSupportOutbox: one handle at a time holds a group's outbox; posts come out in the order
// queued; a failed post is skipped for good, a retried one stays at the head; closing the holder
// hands the rest to the other; a queued post wakes a waiting holder; of replicas racing for the lock
// one wins.
func TestSupportOutbox(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	for i := range 4 {
		if _, err := f.store.QueueSupportPost(ctx, group, ledger.SupportPostNote, fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.QueueSupportPost(ctx, group+1, ledger.SupportPostNote, []byte(`{"other":true}`)); err != nil {
		t.Fatal(err)
	}
	a, b := f.store.SupportOutbox(group), f.store.SupportOutbox(group)
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	if ok, err := a.TryLock(ctx); err != nil || !ok {
		t.Fatalf("a.TryLock = %v, %v; want the lock", ok, err)
	}
	if ok, err := b.TryLock(ctx); err != nil || ok {
		t.Fatalf("b.TryLock while a holds it = %v, %v; want no lock", ok, err)
	}
	if _, _, err := b.Next(ctx); err == nil {
		t.Fatal("b.Next without the lock succeeded, want an error")
	}
	other := f.store.SupportOutbox(group + 1) // another group's outbox has a lock of its own
	t.Cleanup(other.Close)
	if ok, err := other.TryLock(ctx); err != nil || !ok {
		t.Fatalf("other group's TryLock = %v, %v; want the lock", ok, err)
	}

	next := func(o *ledger.SupportOutbox) ledger.SupportPost {
		t.Helper()
		p, ok, err := o.Next(ctx)
		if err != nil || !ok {
			t.Fatalf("Next = %v, %v; want a post", ok, err)
		}
		return p
	}
	p := next(a)
	if string(p.Payload) != `{"n": 0}` || p.Kind != ledger.SupportPostNote || p.ChatID != group {
		t.Fatalf("first post = %+v %s, want note n=0 of the group", p, p.Payload)
	}
	if err := a.Retry(ctx, p.ID, "503"); err != nil {
		t.Fatal(err)
	}
	if p2 := next(a); p2.ID != p.ID || p2.Attempts != 1 {
		t.Fatalf("after a retry Next = %d (attempts %d), want %d again with 1 attempt", p2.ID, p2.Attempts, p.ID)
	}
	if err := a.Posted(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	p = next(a)
	if err := a.Failed(ctx, p.ID, "400 Bad Request"); err != nil {
		t.Fatal(err)
	}
	if p2 := next(a); p2.ID == p.ID || string(p2.Payload) != `{"n": 2}` {
		t.Fatalf("after a failed post Next = %s, want n=2", p2.Payload)
	}

	a.Close() // a replica stops: the rest is b's
	if ok, err := b.TryLock(ctx); err != nil || !ok {
		t.Fatalf("b.TryLock after a closed = %v, %v; want the lock", ok, err)
	}
	for _, want := range []string{`{"n": 2}`, `{"n": 3}`} {
		p := next(b)
		if string(p.Payload) != want {
			t.Fatalf("b's post = %s, want %s", p.Payload, want)
		}
		if err := b.Posted(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := b.Next(ctx); err != nil || ok {
		t.Fatalf("Next on an empty outbox = %v, %v", ok, err)
	}

	// A post queued while the holder waits wakes it (the wait would otherwise last a minute).
	woke := make(chan error, 1)
	go func() { woke <- b.Wait(ctx, time.Minute) }()
	if _, err := f.store.QueueSupportPost(ctx, group, ledger.SupportPostClose, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := <-woke; err != nil {
		t.Fatal(err)
	}
	if p := next(b); p.Kind != ledger.SupportPostClose {
		t.Fatalf("woken by %+v, want the close", p)
	}
	// Eight replicas racing for a free outbox: exactly one gets it.
	b.Close()
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 8 {
		o := f.store.SupportOutbox(group)
		t.Cleanup(o.Close)
		wg.Go(func() {
			ok, err := o.TryLock(ctx)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("TryLock by 8 at once: %d got the lock, want 1", n)
	}
	var failed int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM support_outbox WHERE failed_at IS NOT NULL AND last_error = '400 Bad Request'`).Scan(&failed); err != nil || failed != 1 {
		t.Fatalf("failed posts kept = %d, %v; want 1", failed, err)
	}
}

// TestSupportOutboxState: the metrics read what waits (and since when) apart from what failed for good.
func TestSupportOutboxState(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	st, err := f.store.SupportOutboxState(ctx)
	if err != nil || st != (ledger.SupportOutboxState{}) {
		t.Fatalf("empty outbox: %+v, %v; want zeros", st, err)
	}
	first := f.clock.Now()
	for range 3 {
		if _, err := f.store.QueueSupportPost(ctx, group, ledger.SupportPostNote, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Minute)
	}
	o := f.store.SupportOutbox(group)
	t.Cleanup(o.Close)
	if ok, err := o.TryLock(ctx); err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	for i, settle := range []func(int64) error{func(id int64) error { return o.Failed(ctx, id, "400") }, func(id int64) error { return o.Posted(ctx, id) }} {
		p, ok, err := o.Next(ctx)
		if err != nil || !ok {
			t.Fatalf("Next %d = %v, %v", i, ok, err)
		}
		if err := settle(p.ID); err != nil {
			t.Fatal(err)
		}
	}
	st, err = f.store.SupportOutboxState(ctx)
	want := ledger.SupportOutboxState{Pending: 1, Failed: 1, OldestPending: first.Add(2 * time.Minute)}
	if err != nil || st.Pending != want.Pending || st.Failed != want.Failed || !st.OldestPending.Equal(want.OldestPending) {
		t.Errorf("state = %+v, %v; want %+v", st, err, want)
	}
}
