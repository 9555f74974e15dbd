package dialogs

import "time"

// Balance: "У вас 1 261 балл. Ближайшее сгорание: 211 баллов — 12 декабря." with the catalogue and
// the forecast a tap away.

func balanceShow(s State, in Input) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	b := r.Balance
	lines := []Text{T("balance.text", "Points", b.Points)}
	if b.NextBurn != nil {
		lines = append(lines, T("balance.burn", "Points", b.NextBurn.Points, "On", b.NextBurn.On,
			"Days", DaysUntil(in.Today, b.NextBurn.On)))
	}
	if b.Debt > 0 {
		lines = append(lines, T("balance.debt", "Points", b.Debt))
	}
	return s, []Output{Say(lines...).WithButtons(
		Button{T("button.catalog"), cb(cbCatalog)}, Button{T("button.forecast"), cb(cbForecast)})}
}

// DaysUntil counts calendar days from today to date (both midnight UTC).
func DaysUntil(today, date time.Time) int64 {
	return int64(date.Sub(today).Hours()+12) / 24
}
