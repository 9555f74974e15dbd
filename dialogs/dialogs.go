// Package dialogs is what the bot says, free of any channel: a step is a pure function from the
// dialog State and one Input to the next State and Outputs. An Output is message ids with arguments,
// buttons and effects (ledger calls, one-time codes); the Engine runs the effects, feeds their results
// back as Input and keeps the State in Redis. It knows nothing of Telegram's wire format or pgx.
package dialogs

import (
	"time"

	"bonusbot/ledger"
)

// Contact is a phone number a user shared from the channel's address book.
type Contact struct {
	Phone  string
	UserID int64 // whose number it is, as the channel knows it (0: not a channel user)
}

// Input is one thing a user did: a text, a command, a button press or a shared contact.
type Input struct {
	Channel   string // "telegram", "console"
	UpdateID  int64  // the channel's id of this update, for logs
	UserID    int64
	ChatID    int64
	LangCode  string // the channel's idea of the user's language ("ru", "en-GB"); used until the user picks one
	Text      string
	Command   string // without the slash, lower case: "start", "balance"
	Data      string // button (callback) data
	Contact   *Contact
	Forwarded bool // the message was forwarded from someone else
	// AppCommand says the channel offers /app (the Mini App), so help can mention it.
	AppCommand bool
	MessageID  int // the channel's id of the message (0 for a button press), so support can relay it
	At         time.Time
	Today      time.Time // At's calendar date in the business time zone, as midnight UTC (set by the Engine)

	// Set by the Engine, not the channel.
	Nonce   string      // fresh per update, for buttons that must be confirmed once
	Result  *Result     // the outcome of the effect a step asked for
	Support SupportInfo // the human support relay as it stands for this input
}

// Text is a message id with its template arguments; the channel renders it in the user's language.
type Text struct {
	ID   string
	Args map[string]any
}

// T builds a Text from an id and key/value pairs: T("balance.text", "Points", 1261).
func T(id string, kv ...any) Text {
	t := Text{ID: id}
	if len(kv) > 0 {
		t.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			t.Args[kv[i].(string)] = kv[i+1]
		}
	}
	return t
}

// Button is an inline button; Data is compact, versioned callback data (see callback.go).
type Button struct {
	Label Text
	Data  string
}

// Keyboard is what the reply keyboard under the input field should become.
type Keyboard int

const (
	KeepKeyboard    Keyboard = iota // leave it as it is
	MenuKeyboard                    // the main menu
	ContactKeyboard                 // one button that shares the user's phone number
	RemoveKeyboard
)

// Output is one message to the user, a toast for a button press, or an effect for the Engine. A
// Telegram message carries one reply markup: inline Buttons or a Keyboard change, never both (the
// builders below refuse the combination, so a keyboard change cannot be lost silently).
type Output struct {
	Lines    []Text // joined with new lines
	Buttons  [][]Button
	Keyboard Keyboard
	Edit     bool  // replace the message whose button was pressed, instead of sending a new one
	Toast    *Text // the short answer to a button press
	Do       *Effect
	Relay    *Relay // a message for the human support agents; the channel delivers it
}

// Say is a message of one or more lines.
func Say(lines ...Text) Output { return Output{Lines: lines} }

// WithButtons adds a row of inline buttons. It panics on a message that changes the keyboard: the
// change would never reach the user (end the step with a message of its own instead).
func (o Output) WithButtons(row ...Button) Output {
	if o.Keyboard != KeepKeyboard {
		panic("dialogs: a message cannot carry inline buttons and a keyboard change")
	}
	o.Buttons = append(o.Buttons, row)
	return o
}

// WithKeyboard sets the reply keyboard. It panics on a message with inline buttons, as WithButtons does.
func (o Output) WithKeyboard(k Keyboard) Output {
	if len(o.Buttons) > 0 && k != KeepKeyboard {
		panic("dialogs: a message cannot carry inline buttons and a keyboard change")
	}
	o.Keyboard = k
	return o
}

// prompt asks for typing; the way out, [Отмена], stays under every prompt and every re-prompt.
func prompt(lines ...Text) Output { return Say(lines...).WithButtons(cancelButton()) }

func cancelButton() Button { return Button{T("button.cancel"), cb(cbCancel)} }

// Step is where a user is in a dialog; the zero Step is the menu.
type Step string

const (
	StepMenu          Step = ""
	StepLinkCode      Step = "link.code"      // waiting for the one-time code sent to Phone
	StepAddPhone      Step = "add.phone"      // waiting for a second phone of the account
	StepGiftPhone     Step = "gift.phone"     // waiting for the recipient's number
	StepGiftAmount    Step = "gift.amount"    // waiting for the points to gift to Phone
	StepGiftConfirm   Step = "gift.confirm"   // Points to Phone, confirmed with Nonce
	StepRedeemConfirm Step = "redeem.confirm" // Code for Points, confirmed with Nonce
	StepUnlinkConfirm Step = "unlink.confirm"
)

// State is one user's dialog. The Engine fills the fields tagged "-" from the link on every update.
type State struct {
	Step      Step      `json:"step,omitempty"`
	Until     time.Time `json:"until,omitzero"` // the dialog expires after this instant
	Nonce     string    `json:"nonce,omitempty"`
	Lang      string    `json:"lang,omitempty"`
	Proving   string    `json:"proving,omitempty"`   // E.164: the phone a one-time code was sent to
	Recipient string    `json:"recipient,omitempty"` // E.164: the gift's recipient
	Points    int64     `json:"points,omitempty"`
	Code      string    `json:"code,omitempty"` // catalogue item being redeemed
	Adding    bool      `json:"adding,omitempty"`
	Have      int64     `json:"have,omitempty"` // the balance when the gift's recipient was accepted
	Noted     time.Time `json:"noted,omitzero"` // support: the opening time already announced after hours

	Account int64  `json:"-"` // linked account, 0 when not linked
	Own     string `json:"-"` // the linked phone
}

// Linked says whether ledger data may be shown.
func (s State) Linked() bool { return s.Account != 0 }

// menu is the state after leaving any dialog.
func (s State) menu() State {
	return State{Lang: s.Lang, Account: s.Account, Own: s.Own}
}

// EffectKind names work only the Engine can do.
type EffectKind string

const (
	EffBalance    EffectKind = "balance"
	EffForecast   EffectKind = "forecast"
	EffCatalog    EffectKind = "catalog"
	EffItem       EffectKind = "item"
	EffRedeem     EffectKind = "redeem"
	EffRedeemDone EffectKind = "redeem_done" // the order a confirmation's nonce (Key) placed, if any
	EffHistory    EffectKind = "history"
	EffGiftStart  EffectKind = "gift_start"
	EffGiftLookup EffectKind = "gift_lookup"
	EffGift       EffectKind = "gift"
	EffSendCode   EffectKind = "send_code"
	EffVerifyCode EffectKind = "verify_code"
	EffSetLang    EffectKind = "set_lang"
	EffUnlink     EffectKind = "unlink"
)

// Effect asks the Engine to do Kind, then to call the continuation Then with the Result.
type Effect struct {
	Kind   EffectKind
	Then   Then
	Phone  string
	Code   string
	Points int64
	Before int64 // history older than this transaction (0: the newest)
	After  int64 // history newer than this transaction
	Lang   string
	Key    string // idempotency key of a spend: the nonce of the confirmed dialog
}

// Result is the outcome of an Effect. Err is a ledger refusal, one of this package's errors, or a fault.
type Result struct {
	Err     error
	Balance ledger.Balance
	Burns   []ledger.Burn
	Items   []ledger.Item
	Item    ledger.Item
	Order   ledger.Order
	Receipt ledger.GiftReceipt
	Ops     []ledger.Operation
	Older   bool // there is history older than Ops
	Newer   bool // there is history newer than Ops
	Code    CodeResult
	// ProbesLeft is how many more lookups of numbers that cannot take a gift the sender has today.
	ProbesLeft int
	// WarningsOn is the expiry warnings switch after EffWarnings.
	WarningsOn bool
}

// CodeResult is the outcome of sending or checking a one-time code.
type CodeResult struct {
	Wait      time.Duration // before another code may be sent
	TriesLeft int
}

func do(e Effect) Output { return Output{Do: &e} }
