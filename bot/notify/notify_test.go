package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"bonusbot/bot/notify"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

type chat struct{ got chan string }

func (c chat) Notify(_ context.Context, chatID int64, text string) error {
	c.got <- fmt.Sprintf("%d: %s", chatID, text)
	return nil
}

func TestGiftNotice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := ledgertest.NewPool(t)
	if err := notify.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := chat{got: make(chan string, 4)}
	sms := &dialogstest.SMS{}
	log := slog.New(slog.DiscardHandler)
	links := ledger.NewStore(pool, ledger.Options{}) // the worker's reads need no gift hook
	w := notify.NewWorker(links, map[string]notify.Chat{"telegram": tg}, sms, texts, log)
	client, err := notify.NewClient(pool, w, log)
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow, OnGift: client.OnGift})
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			t.Error(err)
		}
	})

	p := int64(500)
	if _, err := store.Accrue(ctx, ledger.Event{ID: "e1", Phone: "+79161234567", Category: "referral", Points: &p, OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, ph := range []string{"+79161234501", "+79161234502"} {
		if _, err := store.Enrol(ctx, ph, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Link(ctx, ledger.Link{Channel: "telegram", UserID: 42, ChatID: 42, Phone: "+79161234501"}); err != nil {
		t.Fatal(err)
	}
	// A refused gift rolls back, and its notice with it.
	if _, err := store.Gift(ctx, ledger.GiftRequest{From: 1, FromPhone: "+79161234567", To: "+79161234501", Points: 5000}); !errors.Is(err, ledger.ErrGiftAmount) {
		t.Fatalf("Gift(5000) = %v, want ErrGiftAmount", err)
	}
	a, err := store.AccountByPhone(ctx, "+79161234567")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Gift(ctx, ledger.GiftRequest{From: a.ID, FromPhone: "+79161234567", To: "+79161234501", Points: 100}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-tg.got:
		if !strings.HasPrefix(got, "42: Вам подарили 100\u00a0баллов! Отправитель: +7 916 123-45-67. Срок: до ") {
			t.Errorf("telegram notice = %q", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no telegram notice within 30 s")
	}
	var jobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'gift_notice'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 1 {
		t.Errorf("gift_notice jobs = %d, want 1 (the refused gift inserted none)", jobs)
	}
	if n := len(sms.Sent()); n != 0 {
		t.Errorf("sms sent = %d, want 0: the recipient is linked", n)
	}

	// A recipient with no chat is told by SMS.
	if _, err := store.Gift(ctx, ledger.GiftRequest{From: a.ID, FromPhone: "+79161234567", To: "+79161234502", Points: 1}); err != nil {
		if !errors.Is(err, ledger.ErrGiftDailyLimit) {
			t.Fatal(err)
		}
		p := int64(10) // the daily limit: send from another member
		if _, err := store.Accrue(ctx, ledger.Event{ID: "e2", Phone: "+79161234503", Category: "referral", Points: &p, OccurredAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		b, err := store.AccountByPhone(ctx, "+79161234503")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Gift(ctx, ledger.GiftRequest{From: b.ID, FromPhone: "+79161234503", To: "+79161234502", Points: 1}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(sms.Sent()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no SMS notice within 30 s")
		}
		<-time.After(20 * time.Millisecond)
	}
	if got := sms.Sent()[0]; got.To != "+79161234502" || !strings.Contains(got.Text, "Вам подарили 1\u00a0балл") {
		t.Errorf("sms notice = %+v", got)
	}
}
