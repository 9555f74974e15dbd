package dialogs

import "bonusbot/ledger"

// ForecastDays is how far the forecast looks ahead.
const ForecastDays = 90

// Forecast: what burns in the next 90 days, by date, and one catalogue item the burning points could buy.

func forecastShow(s State, in Input) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	if len(r.Burns) == 0 {
		return s, []Output{Say(T("forecast.none", "Days", int64(ForecastDays))).
			WithButtons(Button{T("button.catalog"), cb(cbCatalog)})}
	}
	lines := []Text{T("forecast.title", "Days", int64(ForecastDays))}
	var total int64
	for _, b := range r.Burns {
		total += b.Points
		lines = append(lines, T("forecast.line", "Points", b.Points, "On", b.On, "Days", DaysUntil(in.Today, b.On)))
	}
	lines = append(lines, T("forecast.total", "Points", total))
	out := Say(lines...)
	if it, ok := suggestion(r.Items, total, r.Balance.Points); ok {
		out.Lines = append(out.Lines, T("forecast.suggest", "Title", title(s, it), "Cost", it.Cost))
		out = out.WithButtons(Button{T("button.item", "Title", title(s, it), "Cost", it.Cost), cb(cbItem, it.Code)})
	}
	return s, []Output{out.WithButtons(Button{T("button.catalog"), cb(cbCatalog)})}
}

// suggestion is the dearest item the burning points pay for alone; failing that, the dearest the
// balance pays for, so the points are not lost.
func suggestion(items []ledger.Item, burning, balance int64) (ledger.Item, bool) {
	best, ok := ledger.Item{}, false
	for _, limit := range []int64{burning, balance} {
		for _, it := range items {
			if it.Cost <= limit && it.Cost > best.Cost && (it.Stock == nil || *it.Stock > 0) {
				best, ok = it, true
			}
		}
		if ok {
			return best, true
		}
	}
	return best, false
}

func title(s State, it ledger.Item) string { return ItemTitle(s.Lang, it) }

// ItemTitle is the item's name in lang (Russian when it has no English one).
func ItemTitle(lang string, it ledger.Item) string {
	if lang == "en" && it.TitleEN != "" {
		return it.TitleEN
	}
	return it.TitleRU
}
