package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"bonusbot/ledger"
)

type subscriberJSON struct {
	Phone     string `json:"phone"`
	AccountOf string `json:"account_of"` // optional: join the account holding this phone
}

type subscribersResponse struct {
	Enrolled int                `json:"enrolled"`
	Rejected int                `json:"rejected"`
	Results  []subscriberResult `json:"results"`
}

// subscriberResult is one item's fate, in request order: the account it now belongs to, or why not.
type subscriberResult struct {
	Phone     string   `json:"phone"` // E.164 on success, as sent otherwise
	AccountID int64    `json:"account_id,omitempty"`
	Phones    []string `json:"phones,omitempty"` // all phones of that account
	Error     string   `json:"error,omitempty"`
	Message   string   `json:"message,omitempty"`
}

// postSubscribers enrols phones, in request order, so an item may join the account of an earlier one.
// Enrolling a phone already on the wanted account succeeds and changes nothing, so a request that
// failed with 500 halfway is safe to resend.
func (h *Handler) postSubscribers(w http.ResponseWriter, r *http.Request) {
	raws, ok := h.readBatch(w, r, "subscribers")
	if !ok {
		return
	}
	resp := subscribersResponse{Results: make([]subscriberResult, len(raws))}
	for i, raw := range raws {
		sub, err := parseSubscriber(raw)
		if err != nil {
			code, msg, _, _ := classify(err)
			resp.Results[i] = subscriberResult{Phone: sub.Phone, Error: code, Message: msg}
			resp.Rejected++
			continue
		}
		acct, err := h.ledger.Enrol(r.Context(), sub.Phone, sub.AccountOf)
		if err != nil && !ledger.IsRefusal(err) {
			// A fault is 500 for the whole request, never one item's refusal. The items before it
			// stay enrolled; a resend finds them enrolled on the same account and changes nothing.
			h.fail(w, r, "enrol", err)
			return
		}
		if err != nil {
			code, msg, _, _ := classify(err)
			resp.Results[i] = subscriberResult{Phone: sub.Phone, Error: code, Message: msg}
			resp.Rejected++
			continue
		}
		resp.Results[i] = subscriberResult{Phone: normalise(sub.Phone), AccountID: acct.ID, Phones: acct.Phones}
		resp.Enrolled++
	}
	h.writeJSON(w, r, http.StatusOK, resp)
}

// parseSubscriber decodes one item on its own, so a bad item is refused alone: an unknown field (a
// misspelt "acount_of" would otherwise enrol the phone on an account of its own) or invalid UTF-8.
// The error wraps ledger.ErrInvalidEvent, the code billing already knows for a malformed item.
func parseSubscriber(raw json.RawMessage) (subscriberJSON, error) {
	var sub subscriberJSON
	if !utf8.Valid(raw) {
		return sub, fmt.Errorf("%w: not valid UTF-8", ledger.ErrInvalidEvent)
	}
	if err := checkFields(raw, subscriberFields); err != nil {
		var named subscriberJSON // best effort, to name the refused item by its phone
		if json.Unmarshal(raw, &named) == nil {
			sub.Phone = named.Phone
		}
		return sub, fmt.Errorf("%w: %v", ledger.ErrInvalidEvent, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sub); err != nil {
		return sub, fmt.Errorf("%w: %v", ledger.ErrInvalidEvent, err)
	}
	return sub, nil
}

// normalise is phone in E.164 when it parses, else as given.
func normalise(phone string) string {
	if e164, err := ledger.ParsePhone(phone); err == nil {
		return e164
	}
	return phone
}
