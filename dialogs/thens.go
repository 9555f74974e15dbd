package dialogs

import "strconv"

// thens are the continuations Effects name: each gets the Result in Input.Result.
var thens = map[string]func(State, Input, Effect) (State, []Output){
	"balance.show":            func(s State, in Input, _ Effect) (State, []Output) { return balanceShow(s, in) },
	"forecast.show":           func(s State, in Input, _ Effect) (State, []Output) { return forecastShow(s, in) },
	"catalog.categories":      func(s State, in Input, _ Effect) (State, []Output) { return catalogCategories(s, in, false) },
	"catalog.categories.edit": func(s State, in Input, _ Effect) (State, []Output) { return catalogCategories(s, in, true) },
	"catalog.items": func(s State, in Input, e Effect) (State, []Output) {
		cat, _ := strconv.Atoi(e.Code)
		return catalogItems(s, in, cat, e.Page)
	},
	"item.card":         func(s State, in Input, _ Effect) (State, []Output) { return itemCard(s, in, false) },
	"item.card.edit":    func(s State, in Input, _ Effect) (State, []Output) { return itemCard(s, in, true) },
	"redeem.done":       func(s State, in Input, _ Effect) (State, []Output) { return redeemDone(s, in) },
	"history.page":      func(s State, in Input, _ Effect) (State, []Output) { return historyPage(s, in, false) },
	"history.page.edit": func(s State, in Input, _ Effect) (State, []Output) { return historyPage(s, in, true) },
	"gift.start":        func(s State, in Input, _ Effect) (State, []Output) { return giftStart(s, in) },
	"gift.recipient":    func(s State, in Input, _ Effect) (State, []Output) { return giftRecipient(s, in) },
	"gift.done":         func(s State, in Input, _ Effect) (State, []Output) { return giftDone(s, in) },
	"code.sent":         func(s State, in Input, _ Effect) (State, []Output) { return codeSent(s, in) },
	"code.checked":      func(s State, in Input, _ Effect) (State, []Output) { return codeChecked(s, in) },
	"lang.set":          func(s State, in Input, _ Effect) (State, []Output) { return langSet(s, in) },
	"unlink.done":       func(s State, in Input, _ Effect) (State, []Output) { return unlinkDone(s, in) },
	"warnings.show":     func(s State, in Input, _ Effect) (State, []Output) { return warningsShow(s, in, true) },
	"warnings.set":      func(s State, in Input, _ Effect) (State, []Output) { return warningsShow(s, in, false) },
}

// Continue runs the continuation e names with the effect's result r.
func Continue(s State, in Input, e Effect, r Result) (State, []Output) {
	in.Result = &r
	then, ok := thens[e.Then]
	if !ok {
		panic("dialogs: no continuation " + e.Then)
	}
	return then(s, in, e)
}
