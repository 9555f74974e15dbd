package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/ledger"
)

var linksSchemaSeq atomic.Int64

// linksTestStore gives t a migrated schema of its own (see STYLE.md's NewStore).
func linksTestStore(t *testing.T) *ledger.Store {
	t.Helper()
	ctx := context.Background()
	base := "postgres://root@127.0.0.1:5432/bonusbot_test?sslmode=disable"
	var admin *pgxpool.Pool
	var err error
	for range 3 { // parallel test binaries may race to create the database
		if admin, err = ledger.Connect(ctx, base); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	name := fmt.Sprintf("links%d_%d", os.Getpid(), linksSchemaSeq.Add(1))
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+quoted); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+quoted+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	cfg, err := pgxpool.ParseConfig(base + "&search_path=" + name)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := ledger.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return ledger.NewStore(pool, ledger.Options{})
}

func TestLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := linksTestStore(t)
	if _, err := s.FirstMember(ctx); !errors.Is(err, ledger.ErrUnknownPhone) {
		t.Fatalf("FirstMember(empty) = %v, want ErrUnknownPhone", err)
	}
	acct, err := s.Enrol(ctx, "+79161234567", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrol(ctx, "+79161234568", "+79161234567"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FirstMember(ctx); got != "+79161234567" || err != nil {
		t.Errorf("FirstMember = %q, %v; want +79161234567", got, err)
	}

	if _, err := s.LinkedAccount(ctx, "telegram", 1); !errors.Is(err, ledger.ErrNotLinked) {
		t.Fatalf("LinkedAccount(unlinked) = %v, want ErrNotLinked", err)
	}
	if _, err := s.Link(ctx, ledger.Link{Channel: "telegram", UserID: 1, ChatID: 1, Phone: "+79990000000"}); !errors.Is(err, ledger.ErrUnknownPhone) {
		t.Fatalf("Link(unknown phone) = %v, want ErrUnknownPhone", err)
	}
	l, err := s.Link(ctx, ledger.Link{Channel: "telegram", UserID: 1, ChatID: 11, Phone: "+79161234567", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if l.AccountID != acct.ID || l.Language != "en" || !l.Active || l.LinkedAt.IsZero() {
		t.Errorf("Link = %+v, want account %d, en, active", l, acct.ID)
	}
	// Relinking through the second phone replaces the first link; the account is the same.
	if _, err := s.Link(ctx, ledger.Link{Channel: "telegram", UserID: 1, ChatID: 11, Phone: "+79161234568"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Link(ctx, ledger.Link{Channel: "console", UserID: 1, ChatID: 0, Phone: "+79161234567"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.LinkedAccount(ctx, "telegram", 1)
	if err != nil || got.Phone != "+79161234568" || got.AccountID != acct.ID || got.Language != "ru" {
		t.Errorf("LinkedAccount = %+v, %v; want phone ...68 of account %d, ru", got, err, acct.ID)
	}

	if err := s.SetLanguage(ctx, "telegram", 1, "en"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActive(ctx, "telegram", 1, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLanguage(ctx, "telegram", 2, "en"); !errors.Is(err, ledger.ErrNotLinked) {
		t.Errorf("SetLanguage(unlinked) = %v, want ErrNotLinked", err)
	}
	links, err := s.LinksForAccount(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 {
		t.Fatalf("LinksForAccount = %d links, want 2", len(links))
	}
	for _, l := range links {
		if l.Channel == "telegram" && (l.Language != "en" || l.Active) {
			t.Errorf("telegram link = %+v, want en and inactive", l)
		}
	}

	if err := s.Unlink(ctx, "telegram", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlink(ctx, "telegram", 1); err != nil {
		t.Errorf("second Unlink = %v, want nil", err)
	}
	if _, err := s.LinkedAccount(ctx, "telegram", 1); !errors.Is(err, ledger.ErrNotLinked) {
		t.Errorf("LinkedAccount after Unlink = %v, want ErrNotLinked", err)
	}
}

// TestLinkConcurrent links one user from many goroutines: exactly one row remains, and it is one of
// the requests.
func TestLinkConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := linksTestStore(t)
	phones := []string{"+79161230001", "+79161230002", "+79161230003", "+79161230004"}
	for _, p := range phones {
		if _, err := s.Enrol(ctx, p, ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			_, err := s.Link(ctx, ledger.Link{Channel: "telegram", UserID: 7, ChatID: 7, Phone: phones[i%len(phones)]})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.LinkedAccount(ctx, "telegram", 7)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AccountByPhone(ctx, l.Phone)
	if err != nil || a.ID != l.AccountID {
		t.Errorf("link %+v points at account %d, but the phone is in %d (%v)", l, l.AccountID, a.ID, err)
	}
	var total int
	for _, p := range phones {
		a, err := s.AccountByPhone(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		links, err := s.LinksForAccount(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		total += len(links)
	}
	if total != 1 {
		t.Errorf("links across accounts = %d, want 1", total)
	}
}
