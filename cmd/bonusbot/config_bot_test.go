package main

import (
	"strings"
	"testing"
)

// BOT_MODE=webhook needs its URL and secret; a missing or bad one stops start-up naming it.
func TestLoadWebhook(t *testing.T) {
	t.Parallel()
	good := map[string]string{"BOT_MODE": "webhook", "WEBHOOK_URL": "https://bot.example/tg", "WEBHOOK_SECRET": "0123456789abcdef-_"}
	c, err := Load(env(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebhookAddr != ":8443" || c.WebhookURL != good["WEBHOOK_URL"] {
		t.Errorf("webhook config = %+v", c)
	}
	for name, value := range map[string]string{
		"WEBHOOK_URL":    "http://bot.example/tg",
		"WEBHOOK_SECRET": "short",
		"WEBHOOK_ADDR":   "8443",
	} {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		m[name] = value
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load(%s=%q) = %v, want an error naming %s", name, value, err, name)
		}
	}
}
