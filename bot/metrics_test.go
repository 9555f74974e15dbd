package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"bonusbot/bot"
	"bonusbot/dialogs"
	"bonusbot/dialogs/metrics"
	"bonusbot/ledger"
)

// TestUpdateMetrics: every update is counted by type and outcome, and every Bot API call by method
// and status. Other tests count too, so only growth is checked.
func TestUpdateMetrics(t *testing.T) {
	t.Parallel()
	fail := false
	b := setup(t, bot.Options{}, func(e bot.Engine) bot.Engine {
		return engineFunc(func(ctx context.Context, in dialogs.Input) (dialogs.Reply, error) {
			if fail {
				return dialogs.Reply{}, errors.New("redis down")
			}
			return e.Handle(ctx, in)
		})
	})
	ok := testutil.ToFloat64(metrics.Updates.WithLabelValues("message", "ok"))
	failed := testutil.ToFloat64(metrics.Updates.WithLabelValues("message", "failed"))
	sends := testutil.ToFloat64(metrics.TelegramCalls.WithLabelValues("sendMessage", "200"))
	u := b.srv.User(601, "ru")
	u.Say("/start")
	expect(t, b, u, "Здравствуйте")
	fail = true
	u.Say("/start")
	expect(t, b, u, "Что-то пошло не так")
	grows(t, "updates ok", func() float64 { return testutil.ToFloat64(metrics.Updates.WithLabelValues("message", "ok")) }, ok+1)
	grows(t, "updates failed", func() float64 { return testutil.ToFloat64(metrics.Updates.WithLabelValues("message", "failed")) }, failed+1)
	grows(t, "sendMessage calls", func() float64 { return testutil.ToFloat64(metrics.TelegramCalls.WithLabelValues("sendMessage", "200")) }, sends+2)
}

// grows waits until value() reaches want: an update is counted once its handler returns, just
// after the fake server saw its last message.
func grows(t *testing.T, what string, value func() float64, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for value() < want {
		if time.Now().After(deadline) {
			t.Errorf("%s = %v, want at least %v", what, value(), want)
			return
		}
		<-time.After(10 * time.Millisecond)
	}
}

// TestSendOutput: a warning reaches a chat with its buttons, in the chat's language.
func TestSendOutput(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	n := ledger.WarningNotice{Warning: ledger.Warning{Kind: ledger.WarnWeekly}, Today: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC),
		Soon: 300, Nearest: ledger.Burn{On: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), Points: 300}}
	if err := b.bot.SendOutput(context.Background(), 602, "en", dialogs.ExpiryWarning(n)); err != nil {
		t.Fatal(err)
	}
	c := b.srv.Next(t, 602)
	if !strings.HasPrefix(c.Text, "Expiring soon: 300") {
		t.Errorf("text = %q", c.Text)
	}
	for _, data := range []string{"1:cat", "1:gift", "1:ws:off"} {
		if _, ok := c.Button(data); !ok {
			t.Errorf("markup %s lacks the button %s", c.Markup, data)
		}
	}
}
