package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Refusals. Each is a business rule saying no; callers match them with errors.Is and word them for
// the user. Anything else a Store method returns is a fault, not a refusal.
var (
	ErrInvalidPhone       = errors.New("invalid phone number")
	ErrInvalidAmount      = errors.New("invalid amount")
	ErrInvalidEvent       = errors.New("invalid event")
	ErrUnknownCategory    = errors.New("unknown earn category")
	ErrEventConflict      = errors.New("event id already used with different content")
	ErrUnknownEvent       = errors.New("reversed event not found")
	ErrAlreadyReversed    = errors.New("event already reversed")
	ErrUnknownPhone       = errors.New("phone is not a programme member")
	ErrUnknownAccount     = errors.New("account not found")
	ErrPhoneTaken         = errors.New("phone belongs to another account")
	ErrAccountBlocked     = errors.New("account is blocked")
	ErrInsufficientPoints = errors.New("insufficient points")
	ErrUnknownItem        = errors.New("catalogue item not found")
	ErrItemUnavailable    = errors.New("catalogue item is not available")
	ErrOutOfStock         = errors.New("catalogue item is out of stock")
	ErrUnknownOrder       = errors.New("order not found")
	ErrOrderSettled       = errors.New("order already settled")
	ErrGiftAmount         = errors.New("gift must be between 1 and 3000 points")
	ErrGiftToSelf         = errors.New("gift to own account")
	ErrGiftRecipient      = errors.New("gift recipient is not an active member")
	ErrGiftDailyLimit     = errors.New("one gift a day")
	ErrGiftMonthlyLimit   = errors.New("ten gift recipients a month")
)

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
	ErrAdjustAmount = errors.New("adjustment must be a non-zero number of points within the per-command limit")
	ErrNoReason     = errors.New("a reason is required")
)
