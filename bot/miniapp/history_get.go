package miniapp

import (
	"net/http"
	"strconv"
	"time"

	"bonusbot/dialogs"
	"bonusbot/locales"
)

// historyPage is how many operations one scroll of the page loads.
const historyPage = 20

type historyResponse struct {
	Operations []operationJSON `json:"operations"`
	Next       *string         `json:"next"` // the cursor of the next (older) page; null on the last
}

type operationJSON struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"` // accrual, reversal, redeem, refund, gift_out, gift_in, expiry, adjustment
	Points     int64     `json:"points"`
	At         time.Time `json:"at"`
	Title      string    `json:"title"`       // «начисление», «подарок · +7 916 ***-**-67»
	DateText   string    `json:"date_text"`   // «12 декабря»
	PointsText string    `json:"points_text"` // «+211», «−50»
}

// getHistory is a page of operations, newest first; ?before=<next of the previous page> goes older.
func (h *Handler) getHistory(w http.ResponseWriter, r *request) {
	var before int64
	if c := r.URL.Query().Get("before"); c != "" {
		var err error
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before <= 0 {
			h.writeError(w, r.Request, r.lang, http.StatusBadRequest, "malformed_request", "app.error.bad_request")
			return
		}
	}
	ops, err := h.ledger.History(r.Context(), r.link.AccountID, before, historyPage)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	resp := historyResponse{Operations: make([]operationJSON, len(ops))}
	for i, op := range ops {
		line := dialogs.HistoryLine(op)
		resp.Operations[i] = operationJSON{ID: op.TxID, Kind: op.Kind, Points: op.Points, At: op.At,
			Title:      h.texts.Render(r.lang, dialogs.Text{ID: "miniapp.history.title", Args: line.Args}), // the chat's line, without date and points
			DateText:   h.texts.Render(r.lang, dialogs.Text{ID: "miniapp.history.date", Args: line.Args}),
			PointsText: locales.Signed(r.lang, op.Points)}
	}
	if len(ops) == historyPage {
		next := strconv.FormatInt(ops[len(ops)-1].TxID, 10)
		resp.Next = &next
	}
	h.writeJSON(w, r.Request, http.StatusOK, resp)
}
