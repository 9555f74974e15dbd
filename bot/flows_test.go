package bot_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/bot/notify"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

func TestForecastHistoryLanguageUnlink(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	p := int64(150) // earned 11 months ago: burns within the forecast's 90 days
	if _, err := b.store.Accrue(context.Background(), ledger.Event{ID: "old", Phone: "+79161234567", Category: "referral",
		Points: &p, OccurredAt: b.clock.Now().AddDate(0, -11, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.UpsertItems(context.Background(), []ledger.Item{
		{Code: "22", Category: "communication", TitleRU: "100 SMS", TitleEN: "100 SMS", Cost: 99, Active: true}}); err != nil {
		t.Fatal(err)
	}
	u := b.srv.User(520, "ru")
	link(t, b, u, "+79161234567")

	u.Say("🔥 Прогноз")
	c := expect(t, b, u, "Сгорит в ближайшие 90\u00a0дней:")
	if !strings.Contains(c.Text, "150\u00a0баллов") || !strings.Contains(c.Text, "«100 SMS»") {
		t.Errorf("forecast = %q, want 150 points and the 100 SMS suggestion", c.Text)
	}
	u.Say("/history")
	expect(t, b, u, "Последние операции:\n")
	u.Say("/support")
	expect(t, b, u, "Служба поддержки")
	u.Say("/language")
	c = expect(t, b, u, "Выберите язык")
	u.Press(c.MessageID, button(t, c, "1:lang:en"))
	c = expect(t, b, u, "English it is")
	if !strings.Contains(c.Markup, "💰 Balance") {
		t.Errorf("menu after switching = %s, want English labels", c.Markup)
	}
	u.Say("💰 Balance")
	expect(t, b, u, "You have 150\u00a0points.")
	u.Say("⚙️ Settings")
	c = expect(t, b, u, "Settings")
	u.Press(c.MessageID, button(t, c, "1:ulq"))
	c = expect(t, b, u, "Disconnect this chat")
	u.Press(c.MessageID, button(t, c, "1:ul:"))
	expect(t, b, u, "This chat is disconnected")
	u.Say("/balance")
	expect(t, b, u, "Share my number")
}

// TestGiftNoticeInTelegram: a gift's recipient, linked in Telegram, is told by the River job the gift
// inserted in its own transaction.
func TestGiftNoticeInTelegram(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := ledgertest.NewPool(t)
	if err := notify.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	sms := &dialogstest.SMS{}
	reader := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow})
	chats := map[string]notify.Chat{}
	notices, err := notify.NewClient(pool, notify.NewWorker(reader, chats, sms, texts, log), log)
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow, OnGift: notices.OnGift})
	engine := dialogs.NewEngine(store, store, sms, texts, rdb, log, dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow})
	srv := bottest.New(t)
	runCtx, cancel := context.WithCancel(ctx)
	tgBot, err := bot.New(runCtx, engine, texts, engine, rdb, log, bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix,
		PollTimeout: 2 * time.Second, ChatBurst: 100})
	if err != nil {
		t.Fatal(err)
	}
	chats[bot.Channel] = tgBot
	if err := notices.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tgBot.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		notices.Stop(stopCtx)
	})
	b := &bundle{srv: srv, store: store, clock: ledgertest.NewClock(time.Now()), sms: sms, bot: tgBot}
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	sender, recipient := srv.User(530, "ru"), srv.User(531, "ru")
	link(t, b, sender, "+79161234567")
	link(t, b, recipient, "+79161234501")

	sender.Say("/gift")
	b.srv.Next(t, sender.ID)
	sender.Say("+79161234501")
	b.srv.Next(t, sender.ID)
	sender.Say("100")
	c := b.srv.Next(t, sender.ID)
	sender.Press(c.MessageID, button(t, c, "1:gc:100:"))
	expect(t, b, sender, "Готово! Подарили 100\u00a0баллов")
	expect(t, b, recipient, "Вам подарили 100\u00a0баллов! Отправитель: +7 916 123-45-67. Срок: до ")
}
