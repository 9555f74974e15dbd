package miniapp

import (
	"net/http"
	"strconv"
	"time"

	"bonusbot/dialogs"
	"bonusbot/locales"
)

// forecastMonths is how far the chart looks: this month and the eleven after it.
const forecastMonths = 12

type forecastResponse struct {
	Months    []monthJSON `json:"months"`
	Total     int64       `json:"total"`
	TotalText string      `json:"total_text"` // «Всего: 1 261 балл.»
}

type monthJSON struct {
	Month      string `json:"month"` // YYYY-MM
	Points     int64  `json:"points"`
	Label      string `json:"label"`       // «янв»
	PointsText string `json:"points_text"` // «1 261»
}

// getForecast is what burns in each of the next twelve months, this one included.
func (h *Handler) getForecast(w http.ResponseWriter, r *request) {
	today := h.ledger.LocalDate(h.opts.Now())
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := first.AddDate(0, forecastMonths, 0) // the first day after the chart
	burns, err := h.ledger.Forecast(r.Context(), r.link.AccountID, int(end.Sub(today).Hours()/24)-1)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	resp := forecastResponse{Months: make([]monthJSON, forecastMonths)}
	for i := range resp.Months {
		m := first.AddDate(0, i, 0)
		resp.Months[i] = monthJSON{Month: m.Format("2006-01"),
			Label: h.texts.Render(r.lang, dialogs.T("month.short."+strconv.Itoa(int(m.Month()))))}
	}
	for _, b := range burns {
		i := (b.On.Year()-first.Year())*12 + int(b.On.Month()-first.Month())
		if i < 0 || i >= forecastMonths {
			continue // the ledger's today, read a moment apart, may already be in the next month
		}
		resp.Months[i].Points += b.Points
		resp.Total += b.Points
	}
	for i := range resp.Months {
		resp.Months[i].PointsText = locales.Number(r.lang, resp.Months[i].Points)
	}
	resp.TotalText = h.texts.Render(r.lang, dialogs.T("forecast.total", "Points", resp.Total))
	h.writeJSON(w, r.Request, http.StatusOK, resp)
}
