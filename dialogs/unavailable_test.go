package dialogs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

// pgError answers SQLState as *pgconn.PgError does: dialogs knows Postgres's faults without pgx.
type pgError string

func (e pgError) Error() string    { return "postgres error " + string(e) }
func (e pgError) SQLState() string { return string(e) }

func TestUnavailable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ledger.ErrInsufficientPoints, false},
		{errors.New("dialogs: unknown effect"), false},
		{fmt.Errorf("ledger: balance: %w", refused), true},
		{fmt.Errorf("ledger: balance: %w", pgError("57P01")), true},
		{pgError("57P03"), true},
		{pgError("23505"), false},
		{fmt.Errorf("ledger: %w", io.ErrUnexpectedEOF), true},
		{fmt.Errorf("dialogs: load state: %w", redisErr("LOADING Redis is loading the dataset in memory")), true},
		{redisErr("ERR wrong number of arguments"), false},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := dialogs.Unavailable(tt.err); got != tt.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// downLedger is a ledger whose Postgres has gone away.
type downLedger struct{ *ledger.Store }

func (downLedger) Balance(context.Context, int64) (ledger.Balance, error) {
	return ledger.Balance{}, fmt.Errorf("ledger: balance: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
}

// With Postgres gone the Engine gives the update up: ErrUnavailable, the user's language, and nothing
// saved, so the dialog in progress is still there when the user repeats the step.
func TestPostgresUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 100)
	u := b.user(t, 140)
	u.link("+79161234567")
	want(t, u.press("1:lang:en"), "language.set")
	want(t, u.cmd("gift"), "gift.ask_phone")
	down := dialogs.NewEngine(downLedger{b.store}, b.store, b.sms, b.texts, b.rdb, slog.New(slog.DiscardHandler),
		dialogs.Options{Prefix: b.prefix, Location: start.Location(), Now: b.clock.Now})
	r, err := down.Handle(context.Background(), dialogs.Input{Channel: "telegram", UserID: 140, ChatID: 140, Command: "balance"})
	if !errors.Is(err, dialogs.ErrUnavailable) || r.Lang != "en" {
		t.Fatalf("Handle(/balance) with Postgres down = %+v, %v; want ErrUnavailable in en", r, err)
	}
	want(t, u.say("+79161234567"), "gift.self") // still in the gift dialog: nothing was saved
}

// With Redis gone the Engine cannot load a dialog: ErrUnavailable.
func TestRedisUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	e := dialogs.NewEngine(b.store, b.store, b.sms, b.texts, dead, slog.New(slog.DiscardHandler),
		dialogs.Options{Prefix: b.prefix, Location: start.Location(), Now: b.clock.Now})
	_, err := e.Handle(context.Background(), dialogs.Input{Channel: "telegram", UserID: 141, ChatID: 141, Command: "start"})
	if !errors.Is(err, dialogs.ErrUnavailable) {
		t.Fatalf("Handle with Redis down: %v, want ErrUnavailable", err)
	}
}
