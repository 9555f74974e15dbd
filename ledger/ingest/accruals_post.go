package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"bonusbot/ledger"
)

type accrualsRequest struct {
	Events []json.RawMessage `json:"events"`
}

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

// postAccruals applies a batch of billing events. Each event stands alone: a bad one is listed in
// rejected and the rest still apply. Billing may resend the whole batch; replays count as duplicates.
func (h *Handler) postAccruals(w http.ResponseWriter, r *http.Request) {
	var req accrualsRequest
	if status, msg := decodeBody(w, r, &req); status != 0 {
		h.writeError(w, r, status, errorCodeFor(status), msg)
		return
	}
	if req.Events == nil {
		h.writeError(w, r, http.StatusBadRequest, "malformed_request", `body must be {"events":[…]}`)
		return
	}
	if len(req.Events) > MaxBatch {
		h.writeError(w, r, http.StatusRequestEntityTooLarge, "too_many_events",
			fmt.Sprintf("%d events; send at most %d per request", len(req.Events), MaxBatch))
		return
	}
	events := make([]ledger.Event, len(req.Events))
	outcomes := make([]outcome, len(req.Events))
	for i, raw := range req.Events {
		events[i], outcomes[i].err = parseEvent(raw)
	}
	h.applyEvents(r, events, outcomes)

	resp := accrualsResponse{Rejected: []rejected{}}
	for i, o := range outcomes {
		switch {
		case o.err != nil:
			code, msg, _, ok := classify(o.err)
			if !ok {
				h.log.ErrorContext(r.Context(), "ingest: accrue", "event_id", events[i].ID, "err", o.err)
			}
			resp.Rejected = append(resp.Rejected, rejected{ID: events[i].ID, errorBody: errorBody{code, msg}})
		case o.duplicate:
			resp.Duplicates++
		default:
			resp.Accepted++
		}
	}
	h.writeJSON(w, r, http.StatusOK, resp)
}

// applyEvents runs Accrue for every event not already refused, on h.workers goroutines. Events are
// sharded by phone, and a reversal goes to the shard of the accrual it reverses when that is in the
// batch, and each shard runs in batch order: so one subscriber's events apply in the order billing
// sent them, and "accrue bill-1, then reverse it" in one batch works.
func (h *Handler) applyEvents(r *http.Request, events []ledger.Event, outcomes []outcome) {
	shardOf := make(map[string]int, len(events)) // event id → shard, for reversals
	shards := make([][]int, h.workers)
	for i, ev := range events {
		if outcomes[i].err != nil {
			continue
		}
		var n int
		if s, ok := shardOf[ev.Reverses]; ok && ev.Reverses != "" {
			n = s
		} else {
			n = h.shard(ev)
		}
		if _, seen := shardOf[ev.ID]; !seen {
			shardOf[ev.ID] = n
		}
		shards[n] = append(shards[n], i)
	}
	var wg sync.WaitGroup
	for _, idx := range shards {
		if len(idx) == 0 {
			continue
		}
		wg.Go(func() {
			for _, i := range idx {
				res, err := h.ledger.Accrue(r.Context(), events[i])
				outcomes[i] = outcome{duplicate: res.Duplicate, err: err}
			}
		})
	}
	wg.Wait()
}

// shard keys an event by its normalised phone (so "8916…" and "+7916…" meet), falling back to the raw
// phone, or the reversed id for a reversal.
func (h *Handler) shard(ev ledger.Event) int {
	key := "r:" + ev.Reverses
	if ev.Reverses == "" {
		key = "p:" + ev.Phone
		if e164, err := ledger.ParsePhone(ev.Phone); err == nil {
			key = "p:" + e164
		}
	}
	f := fnv.New32a()
	f.Write([]byte(key))
	return int(f.Sum32() % uint32(h.workers))
}

// parseEvent decodes one event on its own, so a malformed event is refused without spoiling the batch.
// The error wraps a ledger refusal; the returned Event always carries the id when the JSON had one.
func parseEvent(raw json.RawMessage) (ledger.Event, error) {
	var in eventJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt "ammount" must not silently become "no amount"
	if err := dec.Decode(&in); err != nil {
		var ev ledger.Event
		var named struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &named) == nil { // best effort: name the event if we can
			ev.ID = named.ID
		}
		return ev, fmt.Errorf("%w: %v", ledger.ErrInvalidEvent, err)
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

// decodeBody reads a JSON body under MaxBodyBytes. It returns 0 on success, else the status and a
// message for the caller.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) (int, string) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", tooBig.Limit)
	default:
		return http.StatusBadRequest, "malformed JSON: " + err.Error()
	}
}

func errorCodeFor(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "too_large"
	}
	return "malformed_request"
}
