package dialogs

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"bonusbot/ledger"
)

// Gift: recipient phone (any common format) → amount → confirmation showing both → done. Lookups of
// numbers that are not members count against the sender (the Engine's EffGiftLookup), so the dialog
// cannot be used to probe who is a subscriber. Every prompt and re-prompt keeps [Отмена].

func giftStart(s State, in Input) (State, []Output) {
	if in.Result.Err != nil {
		return s.menu(), []Output{refuse(in.Result.Err, MenuKeyboard)}
	}
	s = s.menu()
	s.Step = StepGiftPhone
	return s, []Output{prompt(T("gift.ask_phone"))}
}

func giftPhone(s State, in Input) (State, []Output) {
	phone, err := ledger.ParsePhone(in.Text)
	if err != nil {
		return s, []Output{prompt(T("phone.invalid"))}
	}
	if phone == s.Own {
		return s, []Output{prompt(T("gift.self"))}
	}
	return s, []Output{do(Effect{Kind: EffGiftLookup, Phone: phone, Then: giftRecipient})}
}

// giftRecipient continues EffGiftLookup: the number is a member of another account.
func giftRecipient(s State, in Input) (State, []Output) {
	r := in.Result
	if err := r.Err; err != nil {
		if errors.Is(err, ErrGiftPaused) || errors.Is(err, ledger.ErrGiftDailyLimit) || !IsRefusal(err) {
			return s.menu(), []Output{refuse(err, MenuKeyboard)}
		}
		t, _ := Refusal(err)
		lines := []Text{t}
		if r.ProbesLeft == 1 {
			lines = append(lines, T("gift.probe_warning"))
		}
		return s, []Output{prompt(lines...)} // ask again: another number may do
	}
	if r.Balance.Points < 1 {
		return s.menu(), []Output{Say(T("gift.nothing")).WithKeyboard(MenuKeyboard)}
	}
	s.Step, s.Recipient, s.Have = StepGiftAmount, r.Receipt.ToPhone, r.Balance.Points
	return s, []Output{prompt(T("gift.ask_amount", "Phone", ledger.FormatPhone(s.Recipient), "Max", giftMax(s)))}
}

// giftMax is the most the sender may gift now: the smaller of the balance and the cap on one gift.
func giftMax(s State) int64 { return min(s.Have, ledger.MaxGift) }

func giftAmount(s State, in Input) (State, []Output) {
	n, no := amountAnswer(in.Text, s.Lang, s.Have)
	if no != nil {
		return s, []Output{prompt(no.Lines...)}
	}
	s.Step, s.Points, s.Nonce = StepGiftConfirm, n, in.Nonce
	yes, _ := confirmation(s)
	// The sender typed the number: it is shown in full, so a typo can be seen before it costs anything.
	return s, []Output{Say(T("gift.confirm", "Points", n, "Phone", ledger.FormatPhone(s.Recipient), "After", s.Have-n)).WithButtons(
		Button{T("button.gift_confirm"), yes}, cancelButton())}
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
	return s, []Output{Say(T("gift.done", "Points", g.Points, "Phone", ledger.FormatPhone(g.ToPhone), "Balance", g.Balance)).
		WithKeyboard(MenuKeyboard)}
}

// amountAnswer is the amount step's verdict on text typed by a sender who has `have` points: the
// points to confirm, or the refusal with the words the step answers (each stating the real range).
// The refusal is ledger.ErrGiftAmount, or ledger.ErrInsufficientPoints beyond the balance. These are
// early, friendly answers; the ledger checks again in its transaction.
func amountAnswer(text, lang string, have int64) (int64, *ChatRefusal) {
	limit := min(have, ledger.MaxGift) // as giftMax
	no := func(err error, id string, kv ...any) (int64, *ChatRefusal) {
		return 0, &ChatRefusal{Err: err, Lines: []Text{T(id, append(kv, "Max", limit)...)}}
	}
	n, verdict := parseAmount(text, lang)
	switch {
	case verdict != "":
		return no(ledger.ErrGiftAmount, verdict)
	case n > ledger.MaxGift:
		return no(ledger.ErrGiftAmount, "gift.amount.too_big", "Cap", int64(ledger.MaxGift))
	case n > have:
		return no(ledger.ErrInsufficientPoints, "gift.amount.over_balance", "Have", have)
	}
	return n, nil
}

// amountText is a typed amount: digits, perhaps grouped ("1 000", "1,000" in English), perhaps signed or
// with a fraction, perhaps followed by the unit («100 баллов», «100 б.», "100 points").
var amountText = regexp.MustCompile(`^([-−+]?[0-9][0-9 \x{00a0}\x{202f},.']*?)\s*(баллов|балла|баллы|балл|б\.?|points?|pts\.?)?\.?$`)

var thousands = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+$`)

// parseAmount reads a whole number of points. verdict is "" for a number (which may still be too big)
// or the message id saying what is wrong with the text.
func parseAmount(text, lang string) (n int64, verdict string) {
	m := amountText.FindStringSubmatch(strings.ToLower(strings.TrimSpace(text)))
	if m == nil {
		return 0, "gift.amount.invalid"
	}
	num := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "'", "").Replace(m[1])
	if lang == "en" && thousands.MatchString(num) {
		num = strings.ReplaceAll(num, ",", "")
	}
	switch {
	case strings.HasPrefix(num, "-") || strings.HasPrefix(num, "−"):
		return 0, "gift.amount.not_positive"
	case strings.ContainsAny(num, ".,"):
		return 0, "gift.amount.fraction"
	}
	num = strings.TrimPrefix(num, "+")
	if len(num) > 9 { // more than any gift can be: say so rather than overflow
		return 1_000_000_000, ""
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil:
		return 0, "gift.amount.invalid"
	case n == 0:
		return 0, "gift.amount.not_positive"
	}
	return n, ""
}
