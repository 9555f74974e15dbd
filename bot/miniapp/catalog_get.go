package miniapp

import (
	"net/http"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

type catalogResponse struct {
	Items      []itemJSON     `json:"items"`
	Categories []categoryJSON `json:"categories"` // in the catalogue's order
	Balance    int64          `json:"balance"`
	// A blocked account is told so before any confirmation: its items carry none.
	Blocked     bool   `json:"blocked"`
	BlockedText string `json:"blocked_text,omitempty"`
}

type itemJSON struct {
	Code       string `json:"code"`
	Title      string `json:"title"`
	Category   string `json:"category"`
	Cost       int64  `json:"cost"`
	Available  bool   `json:"available"`  // active and in stock
	Affordable bool   `json:"affordable"` // the balance covers it

	CostText    string `json:"cost_text"`              // «299 баллов»
	ConfirmText string `json:"confirm_text,omitempty"` // the chat's confirmation, when it can be redeemed
	MissingText string `json:"missing_text,omitempty"` // «Нужно ещё 38 баллов», when it cannot be afforded
}

type categoryJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func (h *Handler) getCatalog(w http.ResponseWriter, r *request) {
	items, err := h.ledger.Catalog(r.Context())
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	b, err := h.ledger.Balance(r.Context(), r.link.AccountID)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	a, err := h.ledger.Account(r.Context(), r.link.AccountID)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	resp := catalogResponse{Items: []itemJSON{}, Categories: []categoryJSON{}, Balance: b.Points, Blocked: a.Blocked}
	if a.Blocked {
		resp.BlockedText = h.texts.Render(r.lang, dialogs.T("miniapp.refusal.blocked"))
	}
	for _, c := range dialogs.Categories(items) { // the chat's order of sections, and the items in it
		resp.Categories = append(resp.Categories, categoryJSON{ID: c,
			Title: h.texts.Render(r.lang, dialogs.T("catalog.category."+c, "Fallback", c))})
		for _, it := range items {
			if it.Category == c {
				j := h.item(r.lang, it, b.Points)
				if a.Blocked {
					j.ConfirmText = ""
				}
				resp.Items = append(resp.Items, j)
			}
		}
	}
	h.writeJSON(w, r.Request, http.StatusOK, resp)
}

func (h *Handler) item(lang string, it ledger.Item, balance int64) itemJSON {
	title := dialogs.ItemTitle(lang, it)
	j := itemJSON{Code: it.Code, Title: title, Category: it.Category, Cost: it.Cost,
		Available: it.Active && (it.Stock == nil || *it.Stock > 0), Affordable: it.Cost <= balance,
		CostText: h.texts.Render(lang, dialogs.T("miniapp.points", "Points", it.Cost))}
	switch {
	case !j.Available:
	case j.Affordable:
		j.ConfirmText = h.texts.Render(lang, dialogs.T("redeem.confirm", "Title", title, "Cost", it.Cost, "After", balance-it.Cost))
	default:
		j.MissingText = h.texts.Render(lang, dialogs.T("miniapp.catalog.missing", "Points", it.Cost-balance))
	}
	return j
}
