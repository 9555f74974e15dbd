package ingest

import (
	"encoding/json"
	"errors"
	"testing"

	"bonusbot/ledger"
)

// FuzzParseEvent: whatever billing sends as one event, parseEvent answers with an Event or with a
// refusal the API can word (never a panic, never an unclassified error), and an accepted event has a
// time and no negative amount.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"id":"bill-1","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2026-01-01T10:00:00Z"}`,
		`{"id":"ref-7","phone":"+79161234567","category":"referral","points":50,"occurred_at":"2026-01-01T10:00:00+03:00"}`,
		`{"id":"refund-1","reverses":"bill-1","occurred_at":"2026-01-02T10:00:00Z"}`,
		`{"id":"x","amount":12.5,"occurred_at":"2026-01-01T10:00:00Z"}`,
		`{"id":"x","ammount":"1"}`, `[]`, `null`, `{"amount":"-1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := parseEvent(json.RawMessage(raw))
		if err != nil {
			if !errors.Is(err, ledger.ErrInvalidEvent) && !errors.Is(err, ledger.ErrInvalidAmount) {
				t.Fatalf("parseEvent(%q) = %v, not a refusal the API words", raw, err)
			}
			return
		}
		if ev.OccurredAt.IsZero() {
			t.Fatalf("parseEvent(%q) accepted an event without a time", raw)
		}
		if ev.Amount != nil && *ev.Amount < 0 {
			t.Fatalf("parseEvent(%q) accepted a negative amount %d", raw, *ev.Amount)
		}
	})
}
