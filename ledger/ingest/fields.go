package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// checkFields refuses raw unless it is one JSON object whose keys are all among names, each spelt
// exactly and given at most once. encoding/json alone matches a key in any case and lets a repeated
// key's last value win: {"id":"a","ID":"b"} would be stored as event "b", and of
// {"amount":"1.00","amount":"9000.00"} billing's side and ours could each read another amount.
//
// It walks the object's bytes itself rather than through a json.Decoder's tokens, which would double
// the cost of parsing an event (an ingest batch parses up to 10,000).
func checkFields(raw []byte, names map[string]bool) error {
	if !json.Valid(raw) {
		return errors.New("not valid JSON")
	}
	i := skipSpace(raw, 0)
	if raw[i] != '{' {
		return errors.New("not a JSON object")
	}
	var seen [16]string // an event has 7 fields; more are refused as unknown or repeated before this fills
	n := 0
	for i = skipSpace(raw, i+1); raw[i] != '}'; i = skipSpace(raw, i) {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		end := skipString(raw, i)
		key := string(raw[i+1 : end-1])
		if strings.IndexByte(key, '\\') >= 0 { // an escaped key: compare what it spells
			if err := json.Unmarshal(raw[i:end], &key); err != nil {
				return err
			}
		}
		switch {
		case !names[key]:
			return fmt.Errorf("unknown field %q", key)
		case slices.Contains(seen[:n], key):
			return fmt.Errorf("field %q given twice", key)
		}
		seen[n] = key
		n++
		i = skipSpace(raw, end) + 1 // past the colon
		i = skipValue(raw, skipSpace(raw, i))
	}
	return nil
}

// The skips below walk JSON that json.Valid accepted, so every index they reach is in range.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i] (a quote).
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++ // the escaped character, even a quote; \uXXXX's digits need no care
		}
	}
	return i + 1
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) { // a number, true, false or null
		i++
	}
	return i
}

// fieldNames are the json names of struct type T's fields: what checkFields accepts, from the one
// declaration of the wire format.
func fieldNames[T any]() map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeFor[T]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}

var (
	eventFields      = fieldNames[eventJSON]()
	subscriberFields = fieldNames[subscriberJSON]()
)
