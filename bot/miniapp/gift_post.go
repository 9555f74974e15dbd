package miniapp

import (
	"encoding/json"
	"fmt"
	"net/http"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

type giftRequest struct {
	Phone  string `json:"phone"`
	Points int64  `json:"points"`
}

// giftCheckRequest is giftRequest with the amount also as the user typed it: "points":"100 баллов" is
// judged as the chat judges it, so the page gives the chat's answers to "1,5", "0" or "сто".
type giftCheckRequest struct {
	Phone  string      `json:"phone"`
	Points typedAmount `json:"points"`
}

// typedAmount is a JSON number or string, kept as the text of it.
type typedAmount string

func (a *typedAmount) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, (*string)(a))
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("points: %w", err)
	}
	*a = typedAmount(n)
	return nil
}

type giftCheckResponse struct {
	Recipient    string `json:"recipient"` // E.164
	BalanceAfter int64  `json:"balance_after"`
	Points       int64  `json:"points"` // the amount read from what was typed: what POST gift then sends

	RecipientText string `json:"recipient_text"` // «+7 916 123-45-67»: the number the sender typed, in full
	ConfirmText   string `json:"confirm_text"`   // the chat's confirmation
}

type giftResponse struct {
	Balance int64  `json:"balance"`
	GiftID  int64  `json:"gift_id"`
	Message string `json:"message"` // the chat's «Готово! …»
}

// postGiftCheck is the page's confirmation step: it checks the gift as the chat does and spends nothing.
// A number that is not a member counts against the day's lookups, as in the chat.
func (h *Handler) postGiftCheck(w http.ResponseWriter, r *request) {
	var req giftCheckRequest
	if !h.decode(w, r, &req) {
		return
	}
	plan, err := h.engine.PlanGift(r.Context(), r.visitor, r.link, req.Phone, string(req.Points))
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	phone := ledger.FormatPhone(plan.To)
	h.writeJSON(w, r.Request, http.StatusOK, giftCheckResponse{Recipient: plan.To, BalanceAfter: plan.BalanceAfter, Points: plan.Points, RecipientText: phone,
		ConfirmText: h.texts.Render(r.lang, dialogs.T("gift.confirm", "Points", plan.Points, "Phone", phone, "After", plan.BalanceAfter))})
}

// postGift makes the gift. The Idempotency-Key header makes a retry return the first gift.
func (h *Handler) postGift(w http.ResponseWriter, r *request) {
	key, ok := h.idempotencyKey(w, r)
	if !ok {
		return
	}
	var req giftRequest
	if !h.decode(w, r, &req) {
		return
	}
	g, err := h.engine.Gift(r.Context(), r.visitor, r.link, req.Phone, req.Points, key)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	h.writeJSON(w, r.Request, http.StatusOK, giftResponse{Balance: g.Balance, GiftID: g.ID,
		Message: h.texts.Render(r.lang, dialogs.T("gift.done", "Points", g.Points, "Phone", ledger.FormatPhone(g.ToPhone), "Balance", g.Balance))})
}
