package dialogs

import (
	"errors"
	"strconv"
	"strings"

	"bonusbot/ledger"
)

// Gift: recipient phone (any common format) → amount → confirmation showing both → done. Lookups of
// numbers that are not members count against the sender (the Engine's EffGiftLookup), so the dialog
// cannot be used to probe who is a subscriber.

func giftStart(s State, in Input) (State, []Output) {
	if in.Result.Err != nil {
		return s.menu(), []Output{refuse(in.Result.Err, MenuKeyboard)}
	}
	s = s.menu()
	s.Step = StepGiftPhone
	return s, []Output{Say(T("gift.ask_phone")).WithKeyboard(RemoveKeyboard).
		WithButtons(Button{T("button.cancel"), cb(cbCancel)})}
}

func giftPhone(s State, in Input) (State, []Output) {
	phone, err := ledger.ParsePhone(in.Text)
	if err != nil {
		return s, []Output{Say(T("phone.invalid"))}
	}
	if phone == s.Own {
		return s, []Output{Say(T("gift.self"))}
	}
	return s, []Output{do(Effect{Kind: EffGiftLookup, Phone: phone, Then: giftRecipient})}
}

// giftRecipient continues EffGiftLookup: the number is a member of another account.
func giftRecipient(s State, in Input) (State, []Output) {
	if err := in.Result.Err; err != nil {
		if errors.Is(err, ErrGiftPaused) || errors.Is(err, ledger.ErrGiftDailyLimit) || !IsRefusal(err) {
			return s.menu(), []Output{refuse(err, MenuKeyboard)}
		}
		return s, []Output{refuse(err, KeepKeyboard)} // ask again: another number may do
	}
	s.Step, s.Recipient, s.Have = StepGiftAmount, in.Result.Receipt.ToPhone, in.Result.Balance.Points
	return s, []Output{Say(T("gift.ask_amount", "Phone", ledger.MaskPhone(s.Recipient), "Max", int64(ledger.MaxGift)))}
}

func giftAmount(s State, in Input) (State, []Output) {
	n, ok := parsePoints(in.Text)
	switch {
	case !ok || n <= 0:
		return s, []Output{Say(T("gift.amount.invalid"))}
	case n > ledger.MaxGift: // early, friendly answers; the ledger checks again in its transaction
		return s, []Output{Say(T("gift.amount.range", "Max", int64(ledger.MaxGift)))}
	case n > s.Have:
		return s, []Output{Say(T("gift.amount.over_balance", "Have", s.Have))}
	}
	s.Step, s.Points, s.Nonce = StepGiftConfirm, n, in.Nonce
	return s, []Output{Say(T("gift.confirm", "Points", n, "Phone", ledger.MaskPhone(s.Recipient), "After", s.Have-n)).WithButtons(
		Button{T("button.gift_confirm"), cb(cbGift, n, in.Nonce)}, Button{T("button.cancel"), cb(cbCancel)})}
}

func giftConfirm(s State, c Callback) (State, []Output) {
	n, ok := c.int(0)
	if !ok || s.Step != StepGiftConfirm || n != s.Points || c.Args[1] != s.Nonce {
		return stale(s)
	}
	return s.menu(), []Output{do(Effect{Kind: EffGift, Phone: s.Recipient, Points: s.Points, Key: s.Nonce, Then: giftDone})}
}

// giftDone continues EffGift.
func giftDone(s State, in Input) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	g := r.Receipt
	return s, []Output{Say(T("gift.done", "Points", g.Points, "Phone", ledger.MaskPhone(g.ToPhone), "Balance", g.Balance)).
		WithKeyboard(MenuKeyboard)}
}

// parsePoints reads a whole number of points, allowing "1 000" and "1\u00a0000".
func parsePoints(text string) (int64, bool) {
	t := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "_", "").Replace(strings.TrimSpace(text))
	if t == "" || len(t) > 9 || strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(t, 10, 64)
	return n, err == nil
}
