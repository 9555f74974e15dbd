package miniapp

import (
	"net/http"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

type linkStartRequest struct {
	Phone string `json:"phone"`
}

type linkStartResponse struct {
	Message string `json:"message"` // «Отправили SMS с кодом на …»
}

type linkConfirmRequest struct {
	Code string `json:"code"`
}

// postLinkStart sends a one-time code to a member's number the visitor typed (202: sent).
func (h *Handler) postLinkStart(w http.ResponseWriter, r *request) {
	var req linkStartRequest
	if !h.decode(w, r, &req) {
		return
	}
	if err := h.engine.StartLink(r.Context(), r.visitor, req.Phone); err != nil {
		h.refuse(w, r, err)
		return
	}
	phone, _ := ledger.ParsePhone(req.Phone) // StartLink accepted it
	h.writeJSON(w, r.Request, http.StatusAccepted, linkStartResponse{
		Message: h.texts.Render(r.lang, dialogs.T("code.sent", "Phone", ledger.FormatPhone(phone)))})
}

// postLinkConfirm checks the code and links the visitor; it answers as GET me does.
func (h *Handler) postLinkConfirm(w http.ResponseWriter, r *request) {
	var req linkConfirmRequest
	if !h.decode(w, r, &req) {
		return
	}
	l, err := h.engine.ConfirmLink(r.Context(), r.visitor, req.Code)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	me, err := h.me(r.Context(), l)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	h.writeJSON(w, r.Request, http.StatusOK, me)
}
