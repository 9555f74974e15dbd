package miniapp

import (
	"context"
	"net/http"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// meResponse is the account at a glance; the contract's fields first, then the words for them.
type meResponse struct {
	AccountID   int64     `json:"account_id"`
	Phones      []string  `json:"phones"`
	Balance     int64     `json:"balance"`
	NearestBurn *burnJSON `json:"nearest_burn"`
	Language    string    `json:"language"`

	Blocked     bool     `json:"blocked"`
	Debt        int64    `json:"debt"`
	PhonesText  []string `json:"phones_text"`
	BalanceText string   `json:"balance_text"` // «У вас 1 261 балл.»
	PointsText  string   `json:"points_text"`  // «1 261 балл»
	DebtText    string   `json:"debt_text,omitempty"`
}

type burnJSON struct {
	Date   string `json:"date"`
	Points int64  `json:"points"`
	Text   string `json:"text"` // «Ближайшее сгорание: 211 баллов — 12 декабря (через 10 дней).»
}

func (h *Handler) getMe(w http.ResponseWriter, r *request) {
	me, err := h.me(r.Context(), r.link)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	h.writeJSON(w, r.Request, http.StatusOK, me)
}

// me is what GET me answers for the linked account l; link/confirm answers the same.
func (h *Handler) me(ctx context.Context, l ledger.Link) (meResponse, error) {
	a, err := h.ledger.Account(ctx, l.AccountID)
	if err != nil {
		return meResponse{}, err
	}
	b, err := h.ledger.Balance(ctx, l.AccountID)
	if err != nil {
		return meResponse{}, err
	}
	lang := l.Language
	me := meResponse{AccountID: a.ID, Phones: a.Phones, Balance: b.Points, Language: lang, Blocked: a.Blocked, Debt: b.Debt,
		BalanceText: h.texts.Render(lang, dialogs.T("balance.text", "Points", b.Points)), PointsText: h.texts.Render(lang, dialogs.T("miniapp.points", "Points", b.Points))}
	for _, p := range a.Phones {
		me.PhonesText = append(me.PhonesText, ledger.FormatPhone(p))
	}
	if nb := b.NextBurn; nb != nil {
		today := h.ledger.LocalDate(h.opts.Now())
		me.NearestBurn = &burnJSON{Date: dateString(nb.On), Points: nb.Points,
			Text: h.texts.Render(lang, dialogs.T("balance.burn", "Points", nb.Points, "On", nb.On, "Days", dialogs.DaysUntil(today, nb.On)))}
	}
	if b.Debt > 0 {
		me.DebtText = h.texts.Render(lang, dialogs.T("balance.debt", "Points", b.Debt))
	}
	return me, nil
}
