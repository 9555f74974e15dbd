package ingest

import (
	"net/http"
	"time"
)

// historyLimit is how many recent operations an account lookup shows.
const historyLimit = 20

type accountResponse struct {
	AccountID  int64           `json:"account_id"`
	Phones     []string        `json:"phones"`
	Blocked    bool            `json:"blocked"`
	Balance    int64           `json:"balance"`
	Debt       int64           `json:"debt"`
	Lots       []lotJSON       `json:"lots"`
	Operations []operationJSON `json:"operations"`
}

type lotJSON struct {
	ExpiresOn string `json:"expires_on"` // YYYY-MM-DD: usable through this local date
	Points    int64  `json:"points"`
}

type operationJSON struct {
	TxID   int64     `json:"tx_id"`
	Kind   string    `json:"kind"`
	Points int64     `json:"points"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
}

// getAccount shows an account for support and billing: phones, balance, debt, live lots soonest
// first, and recent operations newest first. The phone may be in any format, URL-escaped.
func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct, err := h.ledger.AccountByPhone(ctx, r.PathValue("phone"))
	if err != nil {
		h.fail(w, r, "account", err)
		return
	}
	bal, err := h.ledger.Balance(ctx, acct.ID)
	if err != nil {
		h.fail(w, r, "balance", err)
		return
	}
	lots, err := h.ledger.Lots(ctx, acct.ID)
	if err != nil {
		h.fail(w, r, "lots", err)
		return
	}
	ops, err := h.ledger.History(ctx, acct.ID, 0, historyLimit)
	if err != nil {
		h.fail(w, r, "history", err)
		return
	}
	resp := accountResponse{
		AccountID:  acct.ID,
		Phones:     acct.Phones,
		Blocked:    acct.Blocked,
		Balance:    bal.Points,
		Debt:       bal.Debt,
		Lots:       make([]lotJSON, len(lots)),
		Operations: make([]operationJSON, len(ops)),
	}
	for i, l := range lots {
		resp.Lots[i] = lotJSON{ExpiresOn: l.ExpiresOn.Format(time.DateOnly), Points: l.Points}
	}
	for i, op := range ops {
		resp.Operations[i] = operationJSON{TxID: op.TxID, Kind: op.Kind, Points: op.Points, At: op.At.UTC(), Detail: op.Detail}
	}
	h.writeJSON(w, r, http.StatusOK, resp)
}

// fail answers a single-resource request with the refusal's status, or 500 for a fault (logged).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, step string, err error) {
	code, msg, status, ok := classify(err)
	if !ok {
		h.log.ErrorContext(r.Context(), "ingest: "+step, "err", err)
	}
	h.writeError(w, r, status, code, msg)
}
