package dialogs

import (
	"errors"

	"bonusbot/ledger"
)

// Refusals of the dialogs' own rules; ledger refusals pass through as they are.
var (
	ErrCodeTooSoon    = errors.New("dialogs: code resent too soon, or another user's code is pending")
	ErrCodeLimit      = errors.New("dialogs: too many codes")
	ErrCodeLocked     = errors.New("dialogs: locked out of codes after wrong ones")
	ErrCodeWrong      = errors.New("dialogs: wrong code")
	ErrCodePhoneRange = errors.New("dialogs: codes go only to the operator's numbers")
	ErrCodeExpired    = errors.New("dialogs: no valid code")
	ErrSMSFailed      = errors.New("dialogs: sms gateway refused")
	ErrGiftPaused     = errors.New("dialogs: gifting paused after lookups of non-members")
)

// refusals words the refusals any step may meet alike; anything not here is a fault, logged by the
// Engine and shown as error.internal. A step that answers a refusal its own way (linking, redeeming)
// matches it before it falls back on refuse, and the Mini App words refusals in its own table
// (bot/miniapp/errors.go).
var refusals = []struct {
	err error
	id  string
}{
	{ledger.ErrGiftAmount, "gift.amount.range"},
	{ledger.ErrInsufficientPoints, "refusal.insufficient"},
	{ledger.ErrGiftToSelf, "gift.self"},
	{ledger.ErrGiftRecipient, "gift.not_member"},
	{ledger.ErrUnknownPhone, "gift.not_member"},
	{ledger.ErrInvalidPhone, "phone.invalid"},
	{ledger.ErrGiftDailyLimit, "gift.daily_limit"},
	{ledger.ErrGiftMonthlyLimit, "gift.monthly_limit"},
	{ledger.ErrAccountBlocked, "refusal.blocked"},
	{ledger.ErrUnknownItem, "redeem.unknown"},
	{ledger.ErrItemUnavailable, "redeem.unavailable"},
	{ledger.ErrOutOfStock, "redeem.out_of_stock"},
	{ErrGiftPaused, "gift.paused"},
	{ledger.ErrPriceChanged, "redeem.price_changed"},
}

// Refusal is the message for err and whether err is a refusal at all.
func Refusal(err error) (Text, bool) {
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			t := T(r.id, "Max", int64(ledger.MaxGift))
			var le *ledger.LimitError
			if errors.As(err, &le) {
				t.Args["At"] = le.AllowedAt
			}
			return t, true
		}
	}
	return Text{}, false
}

// IsRefusal says whether err is a business refusal rather than a fault.
func IsRefusal(err error) bool {
	if _, ok := Refusal(err); ok {
		return true
	}
	for _, e := range []error{ErrCodeTooSoon, ErrCodeLimit, ErrCodeLocked, ErrCodeWrong, ErrCodeExpired, ErrCodePhoneRange, ErrSMSFailed, ledger.ErrPhoneTaken, ledger.ErrNotLinked, ledger.ErrUnknownOrder} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// refuse answers a failed effect: the refusal's sentence, or the apology for a fault.
func refuse(err error, kb Keyboard) Output {
	if t, ok := Refusal(err); ok {
		return Say(t).WithKeyboard(kb)
	}
	return internalError(kb)
}
