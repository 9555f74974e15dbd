package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"bonusbot/bot/console"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

func TestLoadSupport(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Support; s.ChatID != 0 || s.ShowAgentName || !s.Hours.AlwaysOpen() || s.MaxAdjust != 1000 || s.Idle != 24*time.Hour {
		t.Errorf("support defaults = %+v", s)
	}
	c, err = Load(env(map[string]string{"SUPPORT_CHAT_ID": "-1001234567890", "SUPPORT_SHOW_AGENT_NAME": "true",
		"SUPPORT_HOURS": "09:00-21:00", "SUPPORT_MAX_ADJUST": "500", "SUPPORT_IDLE": "2h"}))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Support; s.ChatID != -1001234567890 || !s.ShowAgentName || s.Hours.String() != "09:00-21:00" || s.MaxAdjust != 500 || s.Idle != 2*time.Hour {
		t.Errorf("support config = %+v", s)
	}
	for name, value := range map[string]string{
		"SUPPORT_CHAT_ID":         "1234",
		"SUPPORT_SHOW_AGENT_NAME": "sometimes",
		"SUPPORT_HOURS":           "9-21",
		"SUPPORT_MAX_ADJUST":      "0",
		"SUPPORT_IDLE":            "10s",
	} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load(%s=%q) = %v, want an error naming %s", name, value, err, name)
		}
	}
}

// TestConsoleSupport: the console reaches no agents; /support gives today's text, with or without
// a support group.
func TestConsoleSupport(t *testing.T) {
	t.Parallel()
	for name, vars := range map[string]map[string]string{
		"no support group":           nil,
		"support group, no Telegram": {"SUPPORT_CHAT_ID": "-1001234567890"},
		"support group with Telegram": {"SUPPORT_CHAT_ID": "-1001234567890", "TELEGRAM_BOT_TOKEN": "123:x",
			"CODE_SECRET": "0123456789abcdef0123456789abcdef", "SMS_DEV_LOG": "true"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, err := Load(env(vars))
			if err != nil {
				t.Fatal(err)
			}
			pool := ledgertest.NewPool(t)
			rdb, _ := dialogstest.Redis(t)
			ch, err := newChannels(ctx, cfg, slog.New(slog.DiscardHandler), pool, rdb)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ch.desk != nil, vars["TELEGRAM_BOT_TOKEN"] != ""; got != want {
				t.Errorf("support desk made = %v, want %v", got, want)
			}
			store := ch.attach(pool)
			p := int64(10)
			if _, err := store.Accrue(ctx, ledger.Event{ID: "e1", Phone: "+79161234567", Category: "referral", Points: &p, OccurredAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			c, err := console.New(ctx, store, ch.engine, ch.texts, slog.New(slog.DiscardHandler), "", &out)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Run(ctx, strings.NewReader("/support\nоператор\nбаланс\n")); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); strings.Count(got, "Служба поддержки: 0890") != 2 || !strings.Contains(got, "У вас 10\u00a0баллов.") {
				t.Errorf("console output:\n%s\nwant today's support text twice and the balance after it", got)
			}
		})
	}
}
