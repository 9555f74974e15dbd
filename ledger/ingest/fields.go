package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// checkFields refuses raw unless it is one JSON object whose keys are all among names, each spelt exactly and given at most once. encoding/json alone matches a key in any case
// and lets a repeated key's last value win: {"id":"a","ID":"b"} would be stored as event "b", and of
// {"amount":"1.00","amount":"9000.00"} billing's side and ours could each read another amount.
func checkFields(raw []byte, names map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := make(map[string]bool, len(names))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // inside an object, a token where a key stands is a string
		switch {
		case !names[key]:
			return fmt.Errorf("unknown field %q", key)
		case seen[key]:
			return fmt.Errorf("field %q given twice", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
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
