package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"bonusbot/ledger"
)

// eventJSON is one billing event on the wire. Amount is roubles as a decimal string ("500.00"); a bare
// JSON number is taken digit for digit too, never through a float.
type eventJSON struct {
	ID         string          `json:"id"`
	Phone      string          `json:"phone"`
	Category   string          `json:"category"`
	Amount     json.RawMessage `json:"amount"`
	Points     *int64          `json:"points"`
	Reverses   string          `json:"reverses"`
	OccurredAt string          `json:"occurred_at"`
}

type accrualsResponse struct {
	Accepted   int        `json:"accepted"`
	Duplicates int        `json:"duplicates"`
	Rejected   []rejected `json:"rejected"`
}

type rejected struct {
	ID string `json:"id"`
	errorBody
}

// outcome is what happened to one event of a batch.
type outcome struct {
	duplicate bool
	err       error
}

// postAccruals applies a batch of billing events through the ledger's set-based batch path. Each
// event stands alone: a bad one is listed in rejected and the rest still apply. Accruals apply before
// reversals, so "accrue bill-1, reverse it" works in one batch in either order. Billing may resend the
// whole batch; replays count as duplicates.
func (h *Handler) postAccruals(w http.ResponseWriter, r *http.Request) {
	raws, ok := h.readBatch(w, r, "events")
	if !ok {
		return
	}
	events := make([]ledger.Event, len(raws))
	outcomes := make([]outcome, len(raws))
	for i, raw := range raws {
		events[i], outcomes[i].err = parseEvent(raw)
	}
	if err := h.apply(r, events, outcomes); err != nil {
		// A fault anywhere answers 500 for the whole batch, never 200 with the fault listed as one
		// event's refusal: billing takes rejected as final and would drop that event. What applied
		// before the fault is found as duplicates when billing resends the batch.
		h.fail(w, r, "accrue batch", err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, summarise(events, outcomes))
}

// apply sends the events that parsed to the ledger in one batch and fills in their outcomes. It
// returns a fault if there was one anywhere: the ledger's batch error, or (a broken contract, still
// never a 200) an event's error that is not a refusal.
func (h *Handler) apply(r *http.Request, events []ledger.Event, outcomes []outcome) error {
	var good []ledger.Event
	var at []int // position in the request of each good event
	for i, ev := range events {
		if outcomes[i].err == nil {
			good, at = append(good, ev), append(at, i)
		}
	}
	results, errs, err := h.ledger.AccrueBatch(r.Context(), good)
	if err != nil {
		return err
	}
	for k, i := range at {
		if errs[k] != nil && !ledger.IsRefusal(errs[k]) {
			return fmt.Errorf("event %q: %w", events[i].ID, errs[k])
		}
		outcomes[i] = outcome{duplicate: results[k].Duplicate, err: errs[k]}
	}
	return nil
}

// summarise counts the outcomes and lists the refused events with their codes. Every error in
// outcomes is a refusal by now (apply turned any fault into the batch's error).
func summarise(events []ledger.Event, outcomes []outcome) accrualsResponse {
	resp := accrualsResponse{Rejected: []rejected{}}
	for i, o := range outcomes {
		switch {
		case o.err != nil:
			code, msg, _, _ := classify(o.err)
			resp.Rejected = append(resp.Rejected, rejected{ID: events[i].ID, errorBody: errorBody{code, msg}})
		case o.duplicate:
			resp.Duplicates++
		default:
			resp.Accepted++
		}
	}
	return resp
}

// parseEvent decodes one event on its own, so a malformed event is refused without spoiling the batch.
// The error wraps a ledger refusal; the returned Event always carries the id when the JSON had one.
func parseEvent(raw json.RawMessage) (ledger.Event, error) {
	if !utf8.Valid(raw) {
		// Checked on the raw bytes, as the decoder would turn each invalid byte into U+FFFD, and
		// "coll\xff-1" and "coll\xfe-1" would become one id.
		return ledger.Event{ID: namedID(raw)}, fmt.Errorf("%w: not valid UTF-8", ledger.ErrInvalidEvent)
	}
	if err := checkFields(raw, eventFields); err != nil {
		return ledger.Event{ID: namedID(raw)}, fmt.Errorf("%w: %v", ledger.ErrInvalidEvent, err)
	}
	var in eventJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt "ammount" must not silently become "no amount"
	if err := dec.Decode(&in); err != nil {
		return ledger.Event{ID: namedID(raw)}, fmt.Errorf("%w: %v", ledger.ErrInvalidEvent, err)
	}
	ev := ledger.Event{ID: in.ID, Phone: in.Phone, Category: in.Category, Points: in.Points, Reverses: in.Reverses}
	if in.OccurredAt == "" {
		return ev, fmt.Errorf("%w: occurred_at is required", ledger.ErrInvalidEvent)
	}
	at, err := time.Parse(time.RFC3339Nano, in.OccurredAt)
	if err != nil {
		return ev, fmt.Errorf("%w: occurred_at %q is not RFC 3339", ledger.ErrInvalidEvent, in.OccurredAt)
	}
	ev.OccurredAt = at
	if len(in.Amount) > 0 && string(in.Amount) != "null" {
		text := string(in.Amount)
		if in.Amount[0] == '"' {
			if err := json.Unmarshal(in.Amount, &text); err != nil {
				return ev, fmt.Errorf("%w: %v", ledger.ErrInvalidAmount, err)
			}
		}
		kopecks, err := ledger.ParseAmount(text)
		if err != nil {
			return ev, err
		}
		ev.Amount = &kopecks
	}
	return ev, nil
}

// namedID is the id of a refused event, if it has one, so billing can tell which event was refused.
// Best effort: the id of a malformed event may come out empty, or with U+FFFD for invalid bytes.
func namedID(raw json.RawMessage) string {
	var fields map[string]json.RawMessage // keys as spelt: "ID" is not the id billing will look for
	var id string
	if json.Unmarshal(raw, &fields) != nil || json.Unmarshal(fields["id"], &id) != nil {
		return ""
	}
	return id
}

// readBatch reads a {"<field>":[…]} body under MaxBodyBytes and checks the batch's size; it answers
// a refused request itself and then returns false. The top level is read token by token, so its one
// key is checked as spelt (encoding/json alone would take "Events" for "events" and the last of a
// repeated key) without holding the body twice: a misspelt or unknown key is refused by name and must
// not look like an empty batch. Each item stays raw for its own exact check (checkFields).
func (h *Handler) readBatch(w http.ResponseWriter, r *http.Request, field string) ([]json.RawMessage, bool) {
	if ok, msg := isJSON(r.Header.Get("Content-Type")); !ok {
		h.writeError(w, r, http.StatusUnsupportedMediaType, errorCodeFor(http.StatusUnsupportedMediaType), msg)
		return nil, false
	}
	items, present, err := decodeBatch(json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes)), field)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.writeError(w, r, http.StatusRequestEntityTooLarge, errorCodeFor(http.StatusRequestEntityTooLarge),
			fmt.Sprintf("body over %d bytes", tooBig.Limit))
		return nil, false
	case err != nil:
		h.writeError(w, r, http.StatusBadRequest, errorCodeFor(http.StatusBadRequest), "malformed JSON: "+err.Error())
		return nil, false
	case !present:
		h.writeError(w, r, http.StatusBadRequest, "malformed_request", fmt.Sprintf(`body must be {"%s":[…]}`, field))
		return nil, false
	case len(items) > MaxBatch:
		h.writeError(w, r, http.StatusRequestEntityTooLarge, "too_many_"+field,
			fmt.Sprintf("%d %s; send at most %d per request", len(items), field, MaxBatch))
		return nil, false
	}
	return items, true
}

// decodeBatch reads one JSON object whose only key is field, spelt exactly and given once, holding an
// array (or null); present says whether field was there with an array.
func decodeBatch(dec *json.Decoder, field string) (items []json.RawMessage, present bool, err error) {
	if tok, err := dec.Token(); err != nil {
		return nil, false, err
	} else if tok != json.Delim('{') {
		return nil, false, fmt.Errorf("the body is not a JSON object")
	}
	seen := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		key, _ := tok.(string)
		switch {
		case key != field:
			return nil, false, fmt.Errorf("json: unknown field %q", key)
		case seen:
			return nil, false, fmt.Errorf("json: field %q given twice", key)
		}
		seen = true
		if err := dec.Decode(&items); err != nil {
			return nil, false, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, errors.New("unexpected data after the JSON object")
	}
	return items, items != nil, nil
}

// isJSON accepts application/json, with a charset parameter only if it says UTF-8, the one encoding
// JSON has (RFC 8259). Anything else — a form, text/plain, a missing header — is refused before the
// body is read, so a client that sends the wrong thing learns it at once.
func isJSON(contentType string) (bool, string) {
	const want = "Content-Type must be application/json"
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return false, want
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return false, want + " (charset=utf-8 is the only parameter it takes)"
		}
	}
	return true, ""
}

func errorCodeFor(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	return "malformed_request"
}
