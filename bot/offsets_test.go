package bot

import (
	"testing"

	"github.com/go-telegram/bot/models"
)

func TestOffsets(t *testing.T) {
	t.Parallel()
	ups := func(ids ...int64) []*models.Update {
		var out []*models.Update
		for _, id := range ids {
			out = append(out, &models.Update{ID: id})
		}
		return out
	}
	o := newOffsets()
	if got := o.offset(); got != 0 {
		t.Fatalf("offset before any update = %d, want 0 (Telegram's oldest unconfirmed)", got)
	}
	fresh, _, busy := o.take(ups(5, 6, 7))
	if len(fresh) != 3 || !busy {
		t.Fatalf("take(5,6,7) = %d fresh, busy %v", len(fresh), busy)
	}
	o.finish(6, true)
	if got := o.offset(); got != 5 {
		t.Errorf("offset with 5 in hand = %d, want 5", got)
	}
	o.finish(5, true)
	if got := o.offset(); got != 7 {
		t.Errorf("offset with 7 in hand = %d, want 7", got)
	}
	// Telegram answers with 7 again (still unconfirmed); it finishes while the answer travels.
	o.finish(7, true)
	fresh, _, busy = o.take(ups(7))
	if len(fresh) != 0 || busy {
		t.Errorf("take(7) after 7 finished = %d fresh, busy %v; want none, not busy (poll again at once)", len(fresh), busy)
	}
	if got := o.offset(); got != 8 {
		t.Errorf("offset after all finished = %d, want 8", got)
	}
	o.take(ups(8, 9))
	o.finish(9, true)
	o.finish(8, false) // given up at a shutdown
	if got := o.offset(); got != 8 {
		t.Errorf("offset with 8 given up = %d, want 8: it must come again", got)
	}
}
