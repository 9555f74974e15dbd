package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"bonusbot/bot/bottest"
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
// a support group. The group is checked once at start-up against the fake Bot API: a forum where the
// bot may manage topics gets a desk; anything else is logged, naming what is wrong, and gets none.
func TestConsoleSupport(t *testing.T) {
	t.Parallel()
	const chat = -1001234567890
	withTelegram := map[string]string{"SUPPORT_CHAT_ID": fmt.Sprint(chat), "CODE_SECRET": "0123456789abcdef0123456789abcdef", "SMS_DEV_LOG": "true"}
	for name, tt := range map[string]struct {
		vars     map[string]string
		group    func(s *bottest.Server) // nil: no Telegram
		wantDesk bool
		wantLog  string // in the error logged at start-up
	}{
		"no support group":           {},
		"support group, no Telegram": {vars: map[string]string{"SUPPORT_CHAT_ID": fmt.Sprint(chat)}},
		"support group with Telegram": {vars: withTelegram, wantDesk: true,
			group: func(s *bottest.Server) { s.SetGroup(chat, true); s.SetAdmin(chat, bottest.BotID, true) }},
		"support group without topics": {vars: withTelegram, wantLog: "turn Topics on",
			group: func(s *bottest.Server) { s.SetGroup(chat, false); s.SetAdmin(chat, bottest.BotID, true) }},
		"bot not an admin": {vars: withTelegram, wantLog: "the bot is not an administrator",
			group: func(s *bottest.Server) { s.SetGroup(chat, true); s.SetMember(chat, bottest.BotID, "member") }},
		"bot may not manage topics": {vars: withTelegram, wantLog: "without the right to manage topics",
			group: func(s *bottest.Server) { s.SetGroup(chat, true); s.SetAdmin(chat, bottest.BotID, false) }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			vars := maps.Clone(tt.vars)
			if tt.group != nil {
				srv := bottest.New(t)
				tt.group(srv)
				vars["TELEGRAM_BOT_TOKEN"], vars["TELEGRAM_API_URL"] = srv.Token, srv.URL
			}
			cfg, err := Load(env(vars))
			if err != nil {
				t.Fatal(err)
			}
			pool := ledgertest.NewPool(t)
			rdb, _ := dialogstest.Redis(t)
			var logged bytes.Buffer
			ch, err := newChannels(ctx, cfg, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelError})), pool, rdb)
			if err != nil {
				t.Fatal(err)
			}
			if got := ch.desk != nil; got != tt.wantDesk {
				t.Errorf("support desk made = %v, want %v; log:\n%s", got, tt.wantDesk, logged.String())
			}
			if tt.wantLog != "" && !strings.Contains(logged.String(), tt.wantLog) {
				t.Errorf("start-up log:\n%s\nwant an error saying %q", logged.String(), tt.wantLog)
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
