package dialogs

import (
	"errors"

	"bonusbot/ledger"
)

// Redeem: the item card shows what, how much and the balance after, and its button carries the code,
// the cost and the dialog's nonce; the confirm step checks all three against the State. A second tap
// on a card whose exchange went through says so and shows it (the ledger keeps the nonce as the key).

// page is where an item card was opened from, so its [Отмена] leads back there.
type page struct {
	cat, page int
}

func showItem(s State, in Input) (State, []Output) { return itemCard(s, in, nil) }

// itemOnPage opens the card of an item listed on a catalogue page, editing the page into the card.
func itemOnPage(s State, c Callback) (State, []Output) {
	cat, ok1 := c.int(1)
	pg, ok2 := c.int(2)
	if !ok1 || !ok2 {
		return stale(s)
	}
	from := &page{int(cat), int(pg)}
	return s, []Output{do(Effect{Kind: EffItem, Code: c.Args[0], Then: func(s State, in Input) (State, []Output) {
		return itemCard(s, in, from)
	}})}
}

// editItem opens a card in place of the message whose button was pressed (the forecast's suggestion).
func editItem(s State, in Input) (State, []Output) {
	s, out := itemCard(s, in, nil)
	out[0].Edit = true
	return s, out
}

// itemCard continues EffItem (an item and the balance). from is the catalogue page it was opened from,
// or nil.
func itemCard(s State, in Input, from *page) (State, []Output) {
	r := in.Result
	s = s.menu()
	catalog := Button{T("button.catalog"), cb(cbCatalog)} // "see what is available now"
	back := catalog
	if from != nil {
		back = Button{T("button.back_to_page"), cb(cbCategory, from.cat, from.page)}
	}
	var out Output
	switch it, bal := r.Item, r.Balance.Points; {
	case errors.Is(r.Err, ledger.ErrUnknownItem):
		out = Say(T("redeem.unknown")).WithButtons(catalog)
	case r.Err != nil:
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	case !it.Active:
		out = Say(T("redeem.unavailable")).WithButtons(back)
	case !inStock(it):
		out = Say(T("redeem.out_of_stock")).WithButtons(back)
	case it.Cost > bal:
		name := title(s, it)
		out = Say(T("item.card", "Title", name, "Cost", it.Cost), T("redeem.short", "Missing", it.Cost-bal, "Title", name)).WithButtons(back)
	default: // UX: what, how much, the balance after; [Обменять] [Отмена]
		s.Step, s.Code, s.Points, s.Nonce = StepRedeemConfirm, it.Code, it.Cost, in.Nonce
		cancel := cancelButton()
		if from != nil {
			cancel = Button{T("button.cancel"), cb(cbCategory, from.cat, from.page)}
		}
		yes, _ := confirmation(s)
		out = Say(T("redeem.confirm", "Title", title(s, it), "Cost", it.Cost, "After", bal-it.Cost)).WithButtons(
			Button{T("button.redeem"), yes}, cancel)
	}
	out.Edit = from != nil
	return s, []Output{out}
}

func redeemConfirm(s State, c Callback) (State, []Output) {
	cost, ok := c.int(1)
	if !ok {
		return stale(s)
	}
	if s.Step != StepRedeemConfirm || c.Args[0] != s.Code || cost != s.Points || c.Args[2] != s.Nonce {
		// Not the card waiting for a tap: perhaps one whose exchange went through a moment ago.
		return s, []Output{do(Effect{Kind: EffRedeemDone, Key: c.Args[2], Then: redeemAgain})}
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
	return s, []Output{Say(Redeemed(s.Lang, r.Item, r.Order)...).WithKeyboard(MenuKeyboard)}
}

// Redeemed is what a subscriber is told of an exchange that went through: what for how much and the
// balance left, then what they need to use the reward: its promo code, shown once here (and kept in
// the order, so history shows it again), and the partner's instructions. The Mini App says the same.
func Redeemed(lang string, it ledger.Item, o ledger.Order) []Text {
	lines := []Text{T("redeem.done", "Title", ItemTitle(lang, it), "Cost", o.Cost, "Balance", o.Balance)}
	if o.PromoCode != "" {
		lines = append(lines, T("redeem.promo_code", "Code", o.PromoCode))
	}
	howTo := it.HowToRU
	if lang == "en" && it.HowToEN != "" {
		howTo = it.HowToEN
	}
	if howTo != "" {
		lines = append(lines, T("redeem.how_to", "Text", howTo))
	}
	return lines
}

// redeemAgain continues EffRedeemDone: a repeated tap on a card that has been exchanged, or a stale one.
func redeemAgain(s State, in Input) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return stale(s)
	}
	return s, []Output{Say(T("redeem.already", "Title", title(s, r.Item), "Cost", r.Order.Cost)).WithKeyboard(MenuKeyboard)}
}
