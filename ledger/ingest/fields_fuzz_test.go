package ingest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzCheckFields: checkFields, which walks the bytes itself, accepts exactly the objects that a
// json.Decoder's tokens show to have only known keys, each once and spelt exactly.
func FuzzCheckFields(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","phone":"+7","amount":"1.00"}`, `{"id":"a","ID":"b"}`, `{"id":"a","id":"b"}`,
		`{"i\u0064":"a"}`, ` { "points" : [1, {"x":"]}"}] , "id" : "\"}" } `, `{}`, `[]`, `null`, `"id"`,
		`{"id":1e5,"points":-0.5,"reverses":null,"category":true}`, `{"id":"a"`, `{"id":"a"}x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, want := checkFields(raw, eventFields) == nil, tokensOK(raw, eventFields)
		if got != want {
			t.Fatalf("checkFields(%q) accepts: %v, want %v", raw, got, want)
		}
	})
}

// tokensOK is checkFields the slow, obvious way.
func tokensOK(raw []byte, names map[string]bool) bool {
	if !json.Valid(raw) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, _ := tok.(string)
		if err != nil || !names[key] || seen[key] {
			return false
		}
		seen[key] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return true
}

// BenchmarkParseEvent: what reading one event costs, checkFields included (a batch reads 10,000).
func BenchmarkParseEvent(b *testing.B) {
	raw := json.RawMessage(`{"id":"bill-123456789","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2026-01-01T10:00:00Z"}`)
	for b.Loop() {
		if _, err := parseEvent(raw); err != nil {
			b.Fatal(err)
		}
	}
}
