package ingest

import (
	"errors"
	"net/http"

	"bonusbot/ledger"
)

// codeInternal is what a caller sees for a fault (not a refusal); the details go to the log only.
const codeInternal = "internal_error"

// refusals maps each ledger refusal to the stable code billing matches on. Codes never change once
// shipped; add new ones at the end.
var refusals = []struct {
	err    error
	code   string
	status int // when the refusal answers a whole request (an account lookup)
}{
	{ledger.ErrInvalidPhone, "invalid_phone", http.StatusBadRequest},
	{ledger.ErrInvalidAmount, "invalid_amount", http.StatusBadRequest},
	{ledger.ErrInvalidEvent, "invalid_event", http.StatusBadRequest},
	{ledger.ErrUnknownCategory, "unknown_category", http.StatusBadRequest},
	{ledger.ErrEventConflict, "event_conflict", http.StatusConflict},
	{ledger.ErrUnknownEvent, "unknown_event", http.StatusNotFound},
	{ledger.ErrAlreadyReversed, "already_reversed", http.StatusConflict},
	{ledger.ErrAccountBlocked, "account_blocked", http.StatusForbidden},
	{ledger.ErrUnknownPhone, "unknown_phone", http.StatusNotFound},
	{ledger.ErrUnknownAccount, "unknown_account", http.StatusNotFound},
	{ledger.ErrPhoneTaken, "phone_taken", http.StatusConflict},
	{ledger.ErrExpiredEvent, "expired_event", http.StatusUnprocessableEntity},
}

// codeRefused is the code of a ledger refusal that has no code of its own in refusals yet: still a
// refusal (final for that item), never mistaken for a fault, which would be retried forever.
const codeRefused = "refused"

// classify is the one place that turns a ledger error into a code, a message safe to show and an HTTP
// status. A refusal's message is the ledger's own wording (it names the field or value at fault); a
// fault gets codeInternal and no details, and ok = false so the caller logs it. Whether err is a
// refusal at all is the ledger's knowledge (ledger.IsRefusal), not this table's.
func classify(err error) (code, message string, status int, ok bool) {
	if !ledger.IsRefusal(err) {
		return codeInternal, "internal error, retry later", http.StatusInternalServerError, false
	}
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return r.code, err.Error(), r.status, true
		}
	}
	return codeRefused, err.Error(), http.StatusUnprocessableEntity, true
}
