package support

import (
	"testing"
	"time"
)

// TestWindow: the fallback window, while Redis is down: at most n posts in any period; the next one waits for the oldest to leave the window.
func TestWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	w := newWindow(20, time.Minute, func() time.Time { return now })
	for i := range 20 {
		if d := w.reserve(); d != 0 {
			t.Fatalf("post %d waits %s, want 0 (20 a minute)", i+1, d)
		}
		now = now.Add(time.Second)
	}
	// 20 posts from 12:00:00 to 12:00:19; the 21st at 12:00:20 waits until 12:01:00.
	if d := w.reserve(); d != 40*time.Second {
		t.Fatalf("the 21st post waits %s, want 40s", d)
	}
	now = now.Add(40 * time.Second)
	if d := w.reserve(); d != 0 {
		t.Fatalf("at 12:01:00 the post waits %s, want 0", d)
	}
	if d := w.reserve(); d != time.Second {
		t.Fatalf("the next waits %s, want 1s (until the post of 12:00:01 leaves)", d)
	}
}
