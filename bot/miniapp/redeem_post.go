package miniapp

import (
	"net/http"

	"bonusbot/dialogs"
)

type redeemRequest struct {
	Code string `json:"code"`
	Cost int64  `json:"cost"` // optional: the price the page showed; a changed price spends nothing
}

type redeemResponse struct {
	OrderID   int64  `json:"order_id"`
	Balance   int64  `json:"balance"`
	Message   string `json:"message"`              // the chat's «Готово! …», with a promo code and how to use it
	PromoCode string `json:"promo_code,omitempty"` // a partner reward's code
}

// postRedeem orders an item. The Idempotency-Key header makes a retry return the first order.
func (h *Handler) postRedeem(w http.ResponseWriter, r *request) {
	key, ok := h.idempotencyKey(w, r)
	if !ok {
		return
	}
	var req redeemRequest
	if !h.decode(w, r, &req) {
		return
	}
	o, it, err := h.engine.Redeem(r.Context(), r.visitor, r.link, req.Code, req.Cost, key)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	h.writeJSON(w, r.Request, http.StatusOK, redeemResponse{OrderID: o.ID, Balance: o.Balance, PromoCode: o.PromoCode,
		Message: h.texts.Say(r.lang, dialogs.Redeemed(r.lang, it, o))})
}
