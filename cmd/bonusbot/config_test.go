package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs/dialogstest"
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
		"REDIS_ADDRS":         "10.0.0.1:6379,redis-2",
		"HTTP_ADDR":           "8080",
		"TIMEZONE":            "Mars/Olympus",
		"POINTS_EXPIRY":       "forever",
		"TELEGRAM_API_URL":    "ftp://x",
		"BOT_MODE":            "carrier-pigeon",
		"BOT_USER_RATE":       "0",
		"BOT_GLOBAL_RATE":     "5000",
		"DIALOG_TTL":          "5s",
		"MINIAPP_URL":         "http://bonus.example/app/",
		"MINIAPP_MAX_AGE":     "10s",
		"MINIAPP_RATE":        "lots",
		"MINIAPP_DEV":         "yes",
		"CODE_SECRET":         "short",
		"OTP_PHONE_PREFIXES":  "+79,8916",
		"SMS_DEV_LOG":         "maybe",
		"REQUEST_TIMEOUT":     "10",
		"INGEST_TIMEOUT":      "1h",
		"INGEST_MAX_INFLIGHT": "0",
		"SHUTDOWN_GRACE":      "forever",
	} {
		_, err := Load(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load(%s=%q) = %v, want an error naming %s", name, value, err, name)
		}
	}
}

func TestWebhookMaxConnections(t *testing.T) {
	t.Parallel()
	hook := map[string]string{"BOT_MODE": "webhook", "WEBHOOK_URL": "https://bot.example/tg", "WEBHOOK_SECRET": "0123456789abcdef"}
	c, err := Load(env(hook))
	if err != nil || c.WebhookMaxConnections != 40 {
		t.Fatalf("Load(webhook) = %d, %v; want 40 max connections", c.WebhookMaxConnections, err)
	}
	hook["WEBHOOK_MAX_CONNECTIONS"] = "101"
	if _, err := Load(env(hook)); err == nil || !strings.Contains(err.Error(), "WEBHOOK_MAX_CONNECTIONS") {
		t.Errorf("Load(WEBHOOK_MAX_CONNECTIONS=101) = %v, want an error naming it", err)
	}
}

// Where real users can ask for one-time codes, the codes need a server secret and a real SMS gateway
// (unless SMS_DEV_LOG=true says the log is meant).
func TestCodesNeedASecretAndAGateway(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		env  map[string]string
		want string // the variable the error names; "" for none
	}{
		{map[string]string{}, ""},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "SMS_GATEWAY_URL": "https://sms.example"}, "CODE_SECRET"},
		{map[string]string{"VK_APP_SECRET": "vk", "SMS_GATEWAY_URL": "https://sms.example"}, "CODE_SECRET"},
		{map[string]string{"SMS_GATEWAY_URL": "https://sms.example"}, "CODE_SECRET"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "CODE_SECRET": secret}, "SMS_GATEWAY_URL"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "CODE_SECRET": secret, "SMS_DEV_LOG": "true"}, ""},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "CODE_SECRET": secret, "SMS_GATEWAY_URL": "https://sms.example"}, ""},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Load(%v) = %v, want an error naming %q", tt.env, err, tt.want)
		}
	}
	c, err := Load(env(map[string]string{"OTP_PHONE_PREFIXES": "+79, +7495"}))
	if err != nil || strings.Join(c.PhonePrefixes, "|") != "+79|+7495" {
		t.Errorf("OTP_PHONE_PREFIXES = %v, %v", c.PhonePrefixes, err)
	}
}

// MINIAPP_DEV opens any member's account without a signature: never where a platform can reach the page.
func TestMiniAppDevRefusedWithRealPlatforms(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"TELEGRAM_BOT_TOKEN", "VK_APP_SECRET"} {
		_, err := Load(env(map[string]string{"MINIAPP_DEV": "1", name: "123:secret"}))
		if err == nil || !strings.Contains(err.Error(), "MINIAPP_DEV") {
			t.Errorf("Load(MINIAPP_DEV=1, %s set) = %v, want a refusal naming MINIAPP_DEV", name, err)
		}
	}
	c, err := Load(env(map[string]string{"MINIAPP_DEV": "1"}))
	if err != nil || !c.MiniAppDev {
		t.Errorf("Load(MINIAPP_DEV=1) = %+v, %v; want development mode on", c.MiniAppDev, err)
	}
}

func TestConfigLogRedactsSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"INGEST_TOKEN": "ingest-secret", "TELEGRAM_BOT_TOKEN": "123:bot-secret",
		"DATABASE_URL": "postgres://u:db-secret@h:5432/d", "VK_APP_SECRET": "vk-secret",
		"CODE_SECRET": "code-secret-code-secret-code-secret", "SMS_GATEWAY_URL": "https://sms.example/send",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	for _, secret := range []string{"ingest-secret", "bot-secret", "db-secret", "vk-secret", "code-secret"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log line leaks %q: %s", secret, buf.String())
		}
	}
}

// A secret may ride in a URL's query as well as in its user info: pgx takes ?password=, and an SMS
// gateway or a partner often wants ?api_key= or ?token=. The log keeps the rest of the URL.
func TestConfigLogRedactsSecretsInQueries(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"DATABASE_URL":       "postgres://u@h:5432/d?sslmode=require&password=db-secret",
		"TELEGRAM_BOT_TOKEN": "1:x", "CODE_SECRET": "code-secret-code-secret-code-secret",
		"SMS_GATEWAY_URL": "https://sms.example/send?api_key=sms-secret&from=BONUS",
		"FULFILMENT_URL":  "https://partner.example/orders?access_token=partner-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	for _, secret := range []string{"db-secret", "sms-secret", "partner-secret"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log line leaks %q: %s", secret, buf.String())
		}
	}
	for _, kept := range []string{"sslmode=require", "from=BONUS", "sms.example/send"} {
		if !strings.Contains(buf.String(), kept) {
			t.Errorf("log line lost %q: %s", kept, buf.String())
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

// REDIS_ADDRS makes a Redis Cluster client that keeps REDIS_URL's credentials and timeouts.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	cluster, _ := dialogstest.Cluster(t)
	addrs := cluster.Options().Addrs
	c, err := Load(env(map[string]string{"REDIS_ADDRS": addrs[0], "REDIS_URL": "redis://127.0.0.1:1/?read_timeout=3s"}))
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := openRedis(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("openRedis with REDIS_ADDRS = %T, want a cluster client", rdb)
	}
	if got := cc.Options().ReadTimeout; got != 3*time.Second {
		t.Errorf("read timeout = %v, want REDIS_URL's 3s", got)
	}
	ctx := context.Background()
	for i := range 20 { // keys all over the slots: the client found every master from one address
		if err := rdb.Set(ctx, fmt.Sprintf("test:TestRedisCluster:%d", i), i, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(env(map[string]string{"REDIS_ADDRS": addrs[0], "REDIS_URL": "redis://127.0.0.1:6379/2"})); err == nil {
		t.Error("REDIS_ADDRS with a REDIS_URL naming database 2 loaded, want an error: a cluster has only database 0")
	}
}
