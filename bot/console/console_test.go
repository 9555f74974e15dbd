package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"bonusbot/bot/console"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// TestConsole drives the console as a newcomer would: balance, the catalogue by buttons, a redeem.
func TestConsole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ledgertest.NewStore(t, nil, ledger.Options{})
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := int64(1261)
	if _, err := store.Accrue(ctx, ledger.Event{ID: "e1", Phone: "+79161234567", Category: "referral", Points: &p, OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertItems(ctx, []ledger.Item{{Code: "22", Category: "communication", TitleRU: "100 SMS", TitleEN: "100 SMS", Cost: 299, Active: true}}); err != nil {
		t.Fatal(err)
	}
	engine := dialogs.NewEngine(store, store, &dialogstest.SMS{}, texts, rdb, slog.New(slog.DiscardHandler),
		dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow})
	var out bytes.Buffer
	c, err := console.New(ctx, store, engine, texts, slog.New(slog.DiscardHandler), "", &out) // "": the first member
	if err != nil {
		t.Fatal(err)
	}
	in := strings.NewReader("баланс\n/catalog\n#1\n#1\n#1\n")
	if err := c.Run(ctx, in); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"У вас 1\u00a0261\u00a0балл.",
		"[#1 📞 Связь]",
		"Обменять 299\u00a0баллов на «100 SMS»? После обмена останется 962\u00a0балла.",
		"Осталось 962\u00a0балла.",
		"⌨ 💰 Баланс · 🔥 Прогноз",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}

type panicking struct{}

func (panicking) Handle(context.Context, dialogs.Input) (dialogs.Reply, error) {
	panic("a bug in a step")
}

// A step that panics costs the user one apology, not the console.
func TestConsoleSurvivesAPanic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ledgertest.NewStore(t, nil, ledger.Options{})
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Enrol(ctx, "+79161234567", ""); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c, err := console.New(ctx, store, panicking{}, texts, slog.New(slog.DiscardHandler), "", &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx, strings.NewReader("баланс\nкаталог\n")); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "Что-то пошло не так"); n != 3 { // the opening menu and two lines
		t.Errorf("%d apologies in:\n%s\nwant 3", n, out.String())
	}
}

// TestConsoleStopsItsReader: when serve stops, the console returns only after its reading goroutine
// has, though a read was blocked on a pipe with no writer in sight.
func TestConsoleStopsItsReader(t *testing.T) {
	t.Parallel()
	store := ledgertest.NewStore(t, nil, ledger.Options{})
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := int64(10)
	if _, err := store.Accrue(context.Background(), ledger.Event{ID: "e1", Phone: "+79161234567", Category: "referral", Points: &p, OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	engine := dialogs.NewEngine(store, store, &dialogstest.SMS{}, texts, rdb, slog.New(slog.DiscardHandler),
		dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	c, err := console.New(ctx, store, engine, texts, slog.New(slog.DiscardHandler), "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, r) }()
	fmt.Fprintln(w, "баланс")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := r.SetReadDeadline(time.Time{}); err != nil { // the reader is gone: the pipe is ours again
		t.Fatal(err)
	}
	fmt.Fprintln(w, "left for nobody")
	buf := make([]byte, 64)
	if n, err := r.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "left for nobody") {
		t.Errorf("after the console stopped, the pipe read %q, %v: its reader still consumes it", buf[:n], err)
	}
}
