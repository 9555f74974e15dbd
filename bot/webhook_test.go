package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

func TestWebhook(t *testing.T) {
	t.Parallel()
	srv := bottest.New(t)
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	echo := engineFunc(func(_ context.Context, in dialogs.Input) (dialogs.Reply, error) {
		return dialogs.Reply{Lang: "ru", Outputs: []dialogs.Output{dialogs.Say(dialogs.T("echo", "Fallback", in.Text))}}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, echo, texts, nil, rdb, slog.New(slog.DiscardHandler), bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.RunWebhook(ctx, ln, "https://bot.example/telegram", "s3cret") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	post := func(secret string, u *models.Update) int {
		body, _ := json.Marshal(u)
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	msg := func(text string) *models.Update {
		return &models.Update{ID: 1, Message: &models.Message{Text: text, Date: int(time.Now().Unix()),
			From: &models.User{ID: 901}, Chat: models.Chat{ID: 901, Type: models.ChatTypePrivate}}}
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(srv.Calls("setWebhook")) == 0 { // Telegram would not push before the webhook is set
		if time.Now().After(deadline) {
			t.Fatal("no setWebhook within 15 s")
		}
		<-time.After(10 * time.Millisecond)
	}
	if code := post("wrong", msg("forged")); code != http.StatusUnauthorized {
		t.Errorf("POST with a wrong secret = %d, want 401", code)
	}
	if code := post("s3cret", msg("hello")); code != http.StatusOK {
		t.Errorf("POST = %d, want 200", code)
	}
	if got := srv.Next(t, 901).Text; got != "hello" {
		t.Errorf("reply = %q, want hello (and nothing for the forged update)", got)
	}
	calls := srv.Calls("setWebhook")
	if len(calls) != 1 || calls[0].Data["url"] != "https://bot.example/telegram" || calls[0].Data["secret_token"] != "s3cret" {
		t.Errorf("setWebhook calls = %+v", calls)
	}
}

// Without Redis a replica still answers every update, with an apology that the service is
// temporarily unavailable in the user's language, and tells Telegram the update is handled.
func TestWebhookWithoutRedis(t *testing.T) {
	t.Parallel()
	srv := bottest.New(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	store := ledgertest.NewStore(t, ledgertest.NewClock(time.Now()), ledger.Options{})
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	engine := dialogs.NewEngine(store, store, &dialogstest.SMS{}, texts, dead, log, dialogs.Options{Prefix: "x:"})
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, engine, texts, engine, dead, log, bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: "x:"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.RunWebhook(ctx, ln, "https://bot.example/telegram", "s3cret") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	body, _ := json.Marshal(&models.Update{ID: 1, Message: &models.Message{Text: "/balance", Date: int(time.Now().Unix()),
		From: &models.User{ID: 902, LanguageCode: "en"}, Chat: models.Chat{ID: 902, Type: models.ChatTypePrivate}}})
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", bytes.NewReader(body))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST = %d, want 200: the user was answered", resp.StatusCode)
	}
	if got := srv.Next(t, 902).Text; !strings.Contains(got, "temporarily unavailable") {
		t.Errorf("reply = %q, want the apology that the service is temporarily unavailable", got)
	}
}
