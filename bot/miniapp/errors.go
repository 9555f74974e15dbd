package miniapp

import (
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// refusals is the one table that turns every refusal the page can meet into an error code, an HTTP
// status and the sentence the bot would say (the chat's own message ids where their words fit a page;
// "app." ones where the chat's words name a /command). 409: the account's state says no; 422: the input
// is wrong; 502: the SMS gateway failed. Codes never change once shipped.
var refusals = []struct {
	err    error
	code   string
	status int
	msgID  string
}{
	{ledger.ErrNotLinked, "not_linked", http.StatusForbidden, "app.error.not_linked"},
	{ledger.ErrInsufficientPoints, "insufficient_points", http.StatusConflict, "miniapp.refusal.insufficient"},
	{ledger.ErrOutOfStock, "out_of_stock", http.StatusConflict, "redeem.out_of_stock"},
	{ledger.ErrItemUnavailable, "item_unavailable", http.StatusConflict, "redeem.unavailable"},
	{ledger.ErrPriceChanged, "price_changed", http.StatusConflict, "miniapp.refusal.price_changed"},
	{ledger.ErrGiftDailyLimit, "gift_daily_limit", http.StatusConflict, "gift.daily_limit"},
	{ledger.ErrGiftMonthlyLimit, "gift_monthly_limit", http.StatusConflict, "gift.monthly_limit"},
	{dialogs.ErrGiftPaused, "gift_paused", http.StatusConflict, "gift.paused"},
	{ledger.ErrAccountBlocked, "account_blocked", http.StatusConflict, "miniapp.refusal.blocked"},
	{dialogs.ErrAlreadyLinked, "already_linked", http.StatusConflict, "miniapp.refusal.already_linked"},
	{ledger.ErrPhoneTaken, "phone_taken", http.StatusConflict, "miniapp.refusal.phone_taken"},
	{dialogs.ErrCodeLocked, "code_locked", http.StatusConflict, "code.locked"},
	{dialogs.ErrCodeTooSoon, "code_too_soon", http.StatusConflict, "code.too_soon"},
	{dialogs.ErrCodeLimit, "code_limit", http.StatusConflict, "code.limit"},
	{dialogs.ErrCodeExpired, "code_expired", http.StatusConflict, "code.expired"},
	{ledger.ErrInvalidPhone, "invalid_phone", http.StatusUnprocessableEntity, "phone.invalid"},
	{dialogs.ErrCodePhoneRange, "invalid_phone", http.StatusUnprocessableEntity, "code.phone_range"},
	{ledger.ErrGiftAmount, "invalid_amount", http.StatusUnprocessableEntity, "miniapp.refusal.gift_amount"},
	{ledger.ErrInvalidAmount, "invalid_amount", http.StatusUnprocessableEntity, "miniapp.refusal.gift_amount"},
	{ledger.ErrUnknownItem, "unknown_item", http.StatusUnprocessableEntity, "redeem.unknown"},
	{ledger.ErrGiftRecipient, "unknown_recipient", http.StatusUnprocessableEntity, "gift.not_member"},
	{ledger.ErrUnknownPhone, "not_member", http.StatusUnprocessableEntity, "miniapp.refusal.not_member"},
	{ledger.ErrGiftToSelf, "gift_to_self", http.StatusUnprocessableEntity, "gift.self"},
	{dialogs.ErrCodeWrong, "wrong_code", http.StatusUnprocessableEntity, "code.wrong"},
	{ledger.ErrIdempotencyKeyReused, "idempotency_key_reused", http.StatusUnprocessableEntity, "miniapp.refusal.key_reused"},
	{dialogs.ErrSMSFailed, "sms_failed", http.StatusBadGateway, "code.sms_failed"},
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// refuse answers err: a refusal with its code, status and sentence (and Retry-After when the refusal
// says how long to wait); anything else is a fault.
func (h *Handler) refuse(w http.ResponseWriter, r *request, err error) {
	for _, ref := range refusals {
		if !errors.Is(err, ref.err) {
			continue
		}
		args := []any{"Max", int64(ledger.MaxGift)}
		var limit *ledger.LimitError
		if errors.As(err, &limit) {
			args = append(args, "At", limit.AllowedAt)
		}
		var code *dialogs.CodeRefusal
		if errors.As(err, &code) {
			args = append(args, "Tries", int64(code.TriesLeft), "Seconds", ceil(code.Wait.Seconds()), "Minutes", ceil(code.Wait.Minutes()))
			if code.Wait > 0 {
				w.Header().Set("Retry-After", strconv.FormatInt(ceil(code.Wait.Seconds()), 10))
			}
		}
		msg := h.texts.Render(r.lang, dialogs.T(ref.msgID, args...))
		var said *dialogs.ChatRefusal
		if errors.As(err, &said) { // the chat's own answer, more exact than the table's general one
			msg = h.texts.Say(r.lang, said.Lines)
		}
		h.writeJSON(w, r.Request, ref.status, errorBody{ref.code, msg})
		return
	}
	h.fault(w, r, r.URL.Path, err)
}

func ceil(f float64) int64 { return int64(math.Ceil(f)) }

// fault logs err once, here, and answers with the apology the bot gives. While Redis does not answer
// that is 503 "unavailable" with Retry-After: every page call needs it (rate limits, dialog state), so
// the page can say "temporarily unavailable" rather than "something went wrong", while this replica
// stays ready for ingest (/readyz). Anything else is 500.
func (h *Handler) fault(w http.ResponseWriter, r *request, op string, err error) {
	h.log.ErrorContext(r.Context(), "miniapp: "+op, "channel", r.visitor.Channel, "user_id", r.visitor.UserID, "err", err)
	if dialogs.Unavailable(err) { // Postgres or Redis down: the page says so and asks to come back soon
		w.Header().Set("Retry-After", strconv.Itoa(int(unavailableRetry.Seconds())))
		h.writeError(w, r.Request, r.lang, http.StatusServiceUnavailable, "unavailable", "error.unavailable")
		return
	}
	h.writeError(w, r.Request, r.lang, http.StatusInternalServerError, "internal_error", "error.internal")
}

// unavailableRetry is how long the page is asked to wait while Redis is down.
const unavailableRetry = 30 * time.Second

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, lang string, status int, code, msgID string) {
	h.writeJSON(w, r, status, errorBody{code, h.texts.Render(lang, dialogs.T(msgID))})
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // account data: never kept by a proxy or the WebView
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		h.log.WarnContext(r.Context(), "miniapp: write response", "err", err)
	}
}

// decode reads a JSON body of at most MaxBody bytes into v, refusing unknown fields. It answers a bad
// body itself (415, 413 or 400) and then returns false.
func (h *Handler) decode(w http.ResponseWriter, r *request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		h.writeError(w, r.Request, r.lang, http.StatusUnsupportedMediaType, "unsupported_media_type", "app.error.bad_request")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooBig):
		h.writeError(w, r.Request, r.lang, http.StatusRequestEntityTooLarge, "too_large", "app.error.bad_request")
	default:
		h.log.InfoContext(r.Context(), "miniapp: bad request body", "path", r.URL.Path, "err", err)
		h.writeError(w, r.Request, r.lang, http.StatusBadRequest, "malformed_request", "app.error.bad_request")
	}
	return false
}

// idempotencyKey is the client's key for a spend: 1 to 64 visible ASCII characters. It answers a
// missing or bad key itself with 400 and then returns false.
func (h *Handler) idempotencyKey(w http.ResponseWriter, r *request) (string, bool) {
	k := r.Header.Get("Idempotency-Key")
	ok := len(k) >= 1 && len(k) <= 64
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] > ' ' && k[i] < 0x7f
	}
	if !ok {
		h.writeError(w, r.Request, r.lang, http.StatusBadRequest, "idempotency_key_required", "app.error.bad_request")
	}
	return k, ok
}

// dateString writes a calendar date (midnight UTC, as the ledger keeps them) as YYYY-MM-DD.
func dateString(d time.Time) string { return d.Format(time.DateOnly) }
