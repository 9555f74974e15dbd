package dialogs

import (
	"errors"

	"bonusbot/ledger"
)

// Redeem: the item card shows what, how much and the balance after, and its button carries the code,
// the cost and the dialog's nonce; the confirm step checks all three against the State.

func showItem(s State, in Input) (State, []Output) { return itemCard(s, in, false) }
func editItem(s State, in Input) (State, []Output) { return itemCard(s, in, true) }

// itemCard continues EffItem (an item and the balance).
func itemCard(s State, in Input, edit bool) (State, []Output) {
	r := in.Result
	s = s.menu()
	if r.Err != nil {
		if errors.Is(r.Err, ledger.ErrUnknownItem) {
			return s, []Output{Say(T("redeem.unknown")).WithButtons(Button{T("button.catalog"), cb(cbCatalog)})}
		}
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	it, bal := r.Item, r.Balance.Points
	name := title(s, it)
	catalog := Button{T("button.catalog"), cb(cbCatalog)} // "see what is available now"
	var out Output
	switch {
	case !it.Active:
		out = Say(T("redeem.unavailable")).WithButtons(catalog)
	case it.Stock != nil && *it.Stock == 0:
		out = Say(T("redeem.out_of_stock")).WithButtons(catalog)
	case it.Cost > bal:
		out = Say(T("item.card", "Title", name, "Cost", it.Cost),
			T("redeem.short", "Missing", it.Cost-bal, "Title", name)).WithButtons(catalog)
	default: // UX: what, how much, the balance after; [Обменять] [Отмена]
		s.Step, s.Code, s.Points, s.Nonce = StepRedeemConfirm, it.Code, it.Cost, in.Nonce
		out = Say(T("redeem.confirm", "Title", name, "Cost", it.Cost, "After", bal-it.Cost)).WithButtons(
			Button{T("button.redeem"), cb(cbRedeem, it.Code, it.Cost, in.Nonce)}, Button{T("button.cancel"), cb(cbCancel)})
	}
	out.Edit = edit
	return s, []Output{out}
}

func redeemConfirm(s State, c Callback) (State, []Output) {
	cost, ok := c.int(1)
	if !ok || s.Step != StepRedeemConfirm || c.Args[0] != s.Code || cost != s.Points || c.Args[2] != s.Nonce {
		return stale(s)
	}
	return s.menu(), []Output{do(Effect{Kind: EffRedeem, Code: s.Code, Points: s.Points, Key: s.Nonce, Then: redeemDone})}
}

// redeemDone continues EffRedeem.
func redeemDone(s State, in Input) (State, []Output) {
	r := in.Result
	if errors.Is(r.Err, ledger.ErrInsufficientPoints) {
		return s, []Output{Say(T("redeem.short_now")).WithButtons(Button{T("button.catalog"), cb(cbCatalog)})}
	}
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	return s, []Output{Say(T("redeem.done", "Title", title(s, r.Item), "Cost", r.Order.Cost, "Balance", r.Order.Balance)).
		WithKeyboard(MenuKeyboard)}
}
