package ledger_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

// TestInteractiveStatementTimeout: an operation stuck behind a lock held elsewhere (a stuck session,
// a long bulk chunk) gives up with Postgres's statement timeout and is a fault, not a refusal; it never
// waits as long as its caller would.
func TestInteractiveStatementTimeout(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79161234567", 500_00, f.clock.Now()).AccountID
	holder, err := f.store.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Rollback(context.Background()) })
	if _, err := holder.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, acct); err != nil {
		t.Fatal(err)
	}
	// The caller's own deadline is far longer: only the server-side timeout can end the wait in time.
	callerCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = f.store.Accrue(callerCtx, ledger.Event{ID: "b", Phone: "+79161234567", Category: "mobile", Amount: ptr(500_00), OccurredAt: f.clock.Now()})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" || ledger.IsRefusal(err) {
		t.Errorf("Accrue behind a held lock = %v, want a fault with SQLSTATE 57014 (statement timeout)", err)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "b", Phone: "+79161234567", Category: "mobile", Amount: ptr(500_00), OccurredAt: f.clock.Now()}); err != nil {
		t.Errorf("Accrue after the lock is gone = %v", err)
	}
}

// TestConnectBoundsNewConnections: a pool never waits on a dead host for the kernel's TCP timeout;
// DATABASE_URL's own connect_timeout still wins.
func TestConnectBoundsNewConnections(t *testing.T) {
	t.Parallel()
	own, err := url.Parse(ledgertest.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	q := own.Query()
	q.Set("connect_timeout", "1")
	own.RawQuery = q.Encode()
	tests := []struct {
		url  string
		want time.Duration
	}{
		{ledgertest.DatabaseURL(), 5 * time.Second},
		{own.String(), time.Second},
	}
	for _, tt := range tests {
		pool, err := ledger.Connect(ctx, tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().ConnConfig.ConnectTimeout; got != tt.want {
			t.Errorf("Connect(%s): connect timeout %v, want %v", tt.url, got, tt.want)
		}
		pool.Close()
	}
}
