package miniapp

import (
	"net/http"
	"slices"

	"bonusbot/locales"
)

type languageRequest struct {
	Language string `json:"language"`
}

// postLanguage switches a linked user's language for the page and the chat alike; for a visitor who
// is not linked yet it only validates the choice (the page keeps it until the user links).
func (h *Handler) postLanguage(w http.ResponseWriter, r *request) {
	var req languageRequest
	if !h.decode(w, r, &req) {
		return
	}
	if !slices.Contains(locales.Langs, req.Language) {
		h.writeError(w, r.Request, r.lang, http.StatusUnprocessableEntity, "invalid_language", "app.error.bad_request")
		return
	}
	if r.link.AccountID != 0 {
		if err := h.engine.SetLanguage(r.Context(), r.visitor, req.Language); err != nil {
			h.refuse(w, r, err)
			return
		}
	}
	h.writeJSON(w, r.Request, http.StatusOK, languageRequest{Language: req.Language})
}
