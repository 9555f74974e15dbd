package ingest

import "net/http"

// blockAccount and unblockAccount let support stop an account earning, spending and gifting (fraud, a
// lost SIM) and let it go again. Both answer with the account as GET shows it, so support sees the result.
func (h *Handler) blockAccount(w http.ResponseWriter, r *http.Request)   { h.setBlocked(w, r, true) }
func (h *Handler) unblockAccount(w http.ResponseWriter, r *http.Request) { h.setBlocked(w, r, false) }

func (h *Handler) setBlocked(w http.ResponseWriter, r *http.Request, blocked bool) {
	acct, err := h.ledger.AccountByPhone(r.Context(), r.PathValue("phone"))
	if err != nil {
		h.fail(w, r, "account", err)
		return
	}
	if err := h.ledger.SetBlocked(r.Context(), acct.ID, blocked); err != nil {
		h.fail(w, r, "block", err)
		return
	}
	h.getAccount(w, r)
}
