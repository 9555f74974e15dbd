// Package dialogstest gives tests a real Redis under a key prefix of their own, and a fake SMS
// gateway (the one thing tests do not run for real).
package dialogstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisURL is the test Redis.
const RedisURL = "redis://127.0.0.1:6379/0"

// Redis returns a client and a key prefix unique to t; keys under the prefix (and redis_rate's
// "rate:"+prefix keys) are deleted with SCAN when t ends. Never FLUSHDB: other packages run at once.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("dialogstest: redis at %s: %v", RedisURL, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	prefix := fmt.Sprintf("test:%s:%s:", name, hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		ctx := context.Background()
		for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
			iter := rdb.Scan(ctx, 0, pattern, 500).Iterator()
			var keys []string
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if err := iter.Err(); err != nil {
				t.Errorf("dialogstest: scan: %v", err)
			}
			if len(keys) > 0 {
				if err := rdb.Del(ctx, keys...).Err(); err != nil {
					t.Errorf("dialogstest: del: %v", err)
				}
			}
		}
		rdb.Close()
	})
	return rdb, prefix
}

// SMS is a fake gateway that keeps what it was asked to send.
type SMS struct {
	mu   sync.Mutex
	sent []Message
	fail bool
}

// Message is one SMS.
type Message struct{ To, Text string }

// Send records the message, or fails while Fail is set.
func (s *SMS) Send(_ context.Context, to, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return fmt.Errorf("dialogstest: gateway says 503")
	}
	s.sent = append(s.sent, Message{to, text})
	return nil
}

// Fail makes the gateway refuse (or accept again).
func (s *SMS) Fail(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// Sent is every message so far.
func (s *SMS) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// LastCode is the one-time code in the last SMS to phone, or "".
func (s *SMS) LastCode(phone string) string {
	msgs := s.Sent()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == phone {
			return sixDigits.FindString(msgs[i].Text)
		}
	}
	return ""
}
