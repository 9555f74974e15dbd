package ledger

import "time"

// Account is one points account; it may hold several phones.
type Account struct {
	ID      int64
	Phones  []string // E.164, in the order they joined
	Blocked bool
	Debt    int64
}

// Lot is points that expire together. ExpiresOn is a calendar date (midnight UTC): the points are
// usable through that local date and burn at the next local midnight.
type Lot struct {
	ExpiresOn time.Time
	Points    int64
}

// Burn is an amount that will expire on a date.
type Burn struct {
	On     time.Time
	Points int64
}

// Balance is what an account can spend now.
type Balance struct {
	Points   int64
	Debt     int64
	NextBurn *Burn // nil when nothing is held
}

// Operation is one journal transaction as seen by one account.
type Operation struct {
	TxID   int64
	Kind   string // accrual, reversal, redeem, refund, gift_out, gift_in, expiry, adjustment
	Points int64  // signed effect on the account's spendable points
	At     time.Time
	Detail string // category, item code, counterparty phone (E.164), reversed event id
	// PromoCode is the code a redeem of a coded item gave ("" otherwise).
	PromoCode string
}

// MaxGift is the most points one gift may carry.
const MaxGift = 3000

// GiftRequest asks to move Points from account From to the account holding phone To. Key, when set,
// makes the request idempotent: a repeated key returns the first gift's receipt and moves nothing.
type GiftRequest struct {
	From      int64
	FromPhone string // the sender's number shown to the recipient
	To        string // any common phone format
	Points    int64
	Key       string
}

// GiftReceipt is a completed gift.
type GiftReceipt struct {
	ID          int64
	FromAccount int64
	ToAccount   int64
	FromPhone   string
	ToPhone     string
	Points      int64
	Balance     int64 // the sender's balance after the gift
	Lots        []Lot // what moved, with the dates it keeps
	At          time.Time
	key         string // the request's idempotency key, stored with the gift
}
