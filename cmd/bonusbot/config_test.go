package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Location.String() != "Europe/Moscow" || c.Expiry != "12m" || c.HTTPAddr != ":8080" || c.IngestToken != "" ||
		c.RequestTimeout != 10*time.Second || c.IngestTimeout != time.Minute || c.IngestMaxInflight != 10 {
		t.Errorf("defaults = %+v", c)
	}
}

// A wrong value stops start-up with a message naming the variable.
func TestLoadNamesTheBadVariable(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"DATABASE_URL":        "mysql://x",
		"REDIS_URL":           "http://x",
		"HTTP_ADDR":           "8080",
		"TIMEZONE":            "Mars/Olympus",
		"POINTS_EXPIRY":       "forever",
		"TELEGRAM_API_URL":    "ftp://x",
		"BOT_MODE":            "carrier-pigeon",
		"BOT_USER_RATE":       "0",
		"DIALOG_TTL":          "5s",
		"REQUEST_TIMEOUT":     "10",
		"INGEST_TIMEOUT":      "1h",
		"INGEST_MAX_INFLIGHT": "0",
	} {
		_, err := Load(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load(%s=%q) = %v, want an error naming %s", name, value, err, name)
		}
	}
}

func TestConfigLogRedactsSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"INGEST_TOKEN": "ingest-secret", "TELEGRAM_BOT_TOKEN": "123:bot-secret",
		"DATABASE_URL": "postgres://u:db-secret@h:5432/d",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	for _, secret := range []string{"ingest-secret", "bot-secret", "db-secret"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log line leaks %q: %s", secret, buf.String())
		}
	}
}

func TestExpireRefusesABadInstant(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"expire", "--at", "yesterday"}, env(nil))
	if err == nil || !strings.Contains(err.Error(), "--at") {
		t.Errorf("expire --at yesterday = %v, want an error naming --at", err)
	}
}
