// Package ledgertest gives tests a ledger on the real Postgres, in a schema of their own.
package ledgertest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/ledger"
)

// DatabaseURL is the test database; TEST_DATABASE_URL overrides it. It is created if missing.
func DatabaseURL() string {
	return cmp.Or(os.Getenv("TEST_DATABASE_URL"), "postgres://root@127.0.0.1:5432/bonusbot_test?sslmode=disable")
}

var (
	seq       atomic.Int64
	adminOnce sync.Once
	admin     *pgxpool.Pool
	adminErr  error
)

// adminPool is shared by the package's tests for creating and dropping schemas; it never closes,
// the process exit does that.
func adminPool() (*pgxpool.Pool, error) {
	adminOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, adminErr = ledger.Connect(ctx, DatabaseURL())
	})
	return admin, adminErr
}

// Moscow is the business time zone tests use unless they say otherwise.
var Moscow = mustLoad("Europe/Moscow")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// NewPool gives t a pool whose search_path is a fresh, migrated schema dropped when t ends.
// A test that forgets its schema fails loudly instead of touching another test's tables.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	adm, err := adminPool()
	if err != nil {
		t.Fatalf("ledgertest: postgres at %s: %v", DatabaseURL(), err)
	}
	name := fmt.Sprintf("t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := adm.Exec(ctx, "CREATE SCHEMA "+quoted); err != nil {
		t.Fatalf("ledgertest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := adm.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+quoted+" CASCADE"); err != nil {
			t.Errorf("ledgertest: drop schema: %v", err)
		}
	})
	cfg, err := pgxpool.ParseConfig(DatabaseURL())
	if err != nil {
		t.Fatalf("ledgertest: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("ledgertest: pool: %v", err)
	}
	t.Cleanup(pool.Close) // LIFO: closes before the schema is dropped
	if err := ledger.Migrate(ctx, pool); err != nil {
		t.Fatalf("ledgertest: %v", err)
	}
	return pool
}

// Clock is a settable clock for Options.Now, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// NewStore gives t a Store on its own schema. opts.Location defaults to Moscow; opts.Now to clock.Now
// when a clock is given.
func NewStore(t testing.TB, clock *Clock, opts ledger.Options) *ledger.Store {
	t.Helper()
	if opts.Location == nil {
		opts.Location = Moscow
	}
	if clock != nil {
		opts.Now = clock.Now
	}
	return ledger.NewStore(NewPool(t), opts)
}

// FailInserts makes every insert into table (in pool's schema) whose column equals value fail with a
// real Postgres error (raise_exception, SQLSTATE P0001), as a database fault in the middle of an
// operation would: the statement fails, the transaction rolls back, and nothing else is disturbed.
// heal removes the fault; dropping the schema removes it in any case.
func FailInserts(t testing.TB, pool *pgxpool.Pool, table, column, value string) (heal func()) {
	t.Helper()
	ctx := context.Background()
	name := pgx.Identifier{fmt.Sprintf("fail_inserts_%d", seq.Add(1))}.Sanitize()
	literal := "'" + strings.ReplaceAll(value, "'", "''") + "'"
	_, err := pool.Exec(ctx, `CREATE FUNCTION `+name+`() RETURNS trigger LANGUAGE plpgsql AS $fn$
		BEGIN
			IF NEW.`+pgx.Identifier{column}.Sanitize()+` = `+literal+` THEN
				RAISE EXCEPTION 'ledgertest: injected fault on %', `+literal+`;
			END IF;
			RETURN NEW;
		END $fn$;
		CREATE TRIGGER `+name+` BEFORE INSERT ON `+pgx.Identifier{table}.Sanitize()+`
			FOR EACH ROW EXECUTE FUNCTION `+name+`()`)
	if err != nil {
		t.Fatalf("ledgertest: fail inserts into %s: %v", table, err)
	}
	return func() {
		t.Helper()
		if _, err := pool.Exec(ctx, `DROP FUNCTION `+name+`() CASCADE`); err != nil {
			t.Fatalf("ledgertest: heal inserts into %s: %v", table, err)
		}
	}
}
