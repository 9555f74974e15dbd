package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Refusals. Each is a business rule saying no; callers match them with errors.Is and word them for
// the user. Anything else a Store method returns is a fault, not a refusal (IsRefusal tells them
// apart). Declare every new refusal with refusal(), so IsRefusal knows it without a list to maintain.
var (
	ErrInvalidPhone       = refusal("invalid phone number")
	ErrInvalidAmount      = refusal("invalid amount")
	ErrInvalidEvent       = refusal("invalid event")
	ErrUnknownCategory    = refusal("unknown earn category")
	ErrEventConflict      = refusal("event id already used with different content")
	ErrExpiredEvent       = refusal("accrual too old: its points would already have expired")
	ErrUnknownEvent       = refusal("reversed event not found")
	ErrAlreadyReversed    = refusal("event already reversed")
	ErrUnknownPhone       = refusal("phone is not a programme member")
	ErrUnknownAccount     = refusal("account not found")
	ErrPhoneTaken         = refusal("phone belongs to another account")
	ErrAccountBlocked     = refusal("account is blocked")
	ErrInsufficientPoints = refusal("insufficient points")
	ErrUnknownItem        = refusal("catalogue item not found")
	ErrItemUnavailable    = refusal("catalogue item is not available")
	ErrOutOfStock         = refusal("catalogue item is out of stock")
	ErrPriceChanged       = refusal("catalogue item cost changed since it was shown")
	ErrUnknownOrder       = refusal("order not found")
	ErrOrderSettled       = refusal("order already settled")
	ErrGiftAmount         = refusal(fmt.Sprintf("gift must be between 1 and %d points", MaxGift))
	ErrGiftToSelf         = refusal("gift to own account")
	ErrGiftRecipient      = refusal("gift recipient is not an active member")
	ErrGiftDailyLimit     = refusal("daily gift limit reached")
	ErrGiftMonthlyLimit   = refusal("monthly limit of gift recipients reached")
	// ErrIdempotencyKeyReused refuses a request whose key an earlier, different request already used.
	ErrIdempotencyKeyReused = refusal("idempotency key already used for another request")
)

// refusalError is the type of every refusal sentinel. Sentinels stay distinct pointers, so errors.Is
// matches each one exactly.
type refusalError struct{ msg string }

func (e *refusalError) Error() string { return e.msg }

func refusal(msg string) error { return &refusalError{msg: msg} }

// IsRefusal says whether err is (or wraps) a business refusal. Anything else from a Store method is a
// fault: the database failed or the request was cancelled, and the operation may be retried as it is.
// A batch must never report a fault as if it were one item's refusal (billing treats refusals as final).
func IsRefusal(err error) bool {
	var r *refusalError
	return errors.As(err, &r)
}

// LimitError is a refusal by a time-bound rule; AllowedAt is the first instant the rule allows again.
type LimitError struct {
	Rule      error
	AllowedAt time.Time
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: allowed from %s", e.Rule, e.AllowedAt.Format(time.RFC3339))
}

func (e *LimitError) Unwrap() error { return e.Rule }

// Support refusals: what an agent's command may meet.
var (
	ErrAdjustAmount = refusal("adjustment must be a non-zero number of points within the per-command limit")
	ErrNoReason     = refusal("a reason is required")
)
