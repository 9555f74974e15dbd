package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func record(t *testing.T, opts Options, log func(*slog.Logger)) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log(slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), opts)))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	return m
}

func TestProductionRedacts(t *testing.T) {
	t.Parallel()
	key := []byte("k")
	ctx := WithUpdate(context.Background(), 901)
	got := record(t, Options{HashKey: key}, func(l *slog.Logger) {
		l.With("user_id", int64(42)).ErrorContext(ctx, "sms failed", "chat_id", int64(42), "to", "+79161234567", "code", "123456",
			"err", errors.New("gateway refused +79161234567"), "note", "call 89161234567", slog.Group("g", "phone", "+79160000001"))
	})
	want := map[string]any{
		"update_id": float64(901),
		"chat_id":   HashID(key, 42),
		"user_id":   HashID(key, 42),
		"to":        "+7916***67",
		"code":      "<redacted>",
		"err":       "gateway refused +7916***67",
		"note":      "call 89161***67",
		"g":         map[string]any{"phone": "+7916***01"},
	}
	for k, w := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(w) {
			t.Errorf("%s = %s, want %s", k, g, mustJSON(w))
		}
	}
	again := record(t, Options{HashKey: key}, func(l *slog.Logger) { l.InfoContext(ctx, "x", "update_id", int64(901)) })
	if again["update_id"] != float64(901) {
		t.Errorf("update_id logged by the call site = %v", again["update_id"])
	}
	if strings.Contains(mustJSON(got), "4567") {
		t.Errorf("a phone leaked: %v", got)
	}
}

func TestDevelopmentKeepsPhonesAndCodes(t *testing.T) {
	t.Parallel()
	ctx := WithJob(context.Background(), 7, "expiry_warning")
	got := record(t, Options{Dev: true}, func(l *slog.Logger) {
		l.InfoContext(ctx, "dev sms", "to", "+79161234567", "code", "123456", "chat_id", int64(42))
	})
	if got["to"] != "+79161234567" || got["code"] != "123456" || got["job_id"] != float64(7) || got["job_kind"] != "expiry_warning" {
		t.Errorf("dev record = %v", got)
	}
	if got["chat_id"] == float64(42) {
		t.Errorf("chat ids are hashed even in development: %v", got["chat_id"])
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
