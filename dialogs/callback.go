package dialogs

import (
	"strconv"
	"strings"
)

// Callback data is "1:kind:arg…": a version, a short kind and its arguments, at most 64 bytes (Telegram's
// limit). Buttons that spend (redeem, gift, unlink) also carry what was shown and the dialog's Nonce, and
// the step checks them against the State, so a stale or forged button is refused and changes nothing.
const callbackVersion = "1"

// CallbackKind says what a button does; its arguments follow it in the data.
type CallbackKind string

// Callback kinds; the data of each is its short name, so old buttons stay readable across releases.
const (
	cbCatalog      CallbackKind = "cat"  // catalogue categories
	cbCategory     CallbackKind = "cg"   // category index, page
	cbItem         CallbackKind = "it"   // item card: code
	cbItemOnPage   CallbackKind = "ip"   // item card opened from a catalogue page: code, section, page
	cbRedeem       CallbackKind = "rc"   // redeem confirm: code, cost, nonce
	cbGift         CallbackKind = "gc"   // gift confirm: points, nonce
	cbCancel       CallbackKind = "x"    // cancel the dialog
	cbBalance      CallbackKind = "bal"  // balance
	cbForecast     CallbackKind = "fc"   // forecast
	cbHistoryNewer CallbackKind = "hn"   // history newer than tx id
	cbMenu         CallbackKind = "m"    // the main menu
	cbHistory      CallbackKind = "h"    // history before tx id (0: newest)
	cbLanguages    CallbackKind = "lg"   // language choice
	cbLanguage     CallbackKind = "lang" // set language: ru, en
	cbSettings     CallbackKind = "set"  // settings
	cbAddPhone     CallbackKind = "add"  // add a phone
	cbUnlinkAsk    CallbackKind = "ulq"  // ask to unlink
	cbUnlink       CallbackKind = "ul"   // unlink confirm: nonce
	cbResend       CallbackKind = "rs"   // resend the code
	cbGiftStart    CallbackKind = "gift" // start a gift
	cbWarningsAsk  CallbackKind = "wq"   // the expiry warnings switch
	cbWarnings     CallbackKind = "ws"   // set expiry warnings: on, off
)

// callbackArgs is how many arguments each kind carries.
var callbackArgs = map[CallbackKind]int{
	cbCatalog:      0,
	cbCategory:     2,
	cbItem:         1,
	cbItemOnPage:   3,
	cbRedeem:       3,
	cbGift:         2,
	cbCancel:       0,
	cbBalance:      0,
	cbForecast:     0,
	cbHistoryNewer: 1,
	cbMenu:         0,
	cbHistory:      1,
	cbLanguages:    0,
	cbLanguage:     1,
	cbSettings:     0,
	cbAddPhone:     0,
	cbUnlinkAsk:    0,
	cbUnlink:       1,
	cbResend:       0,
	cbGiftStart:    0,
	cbWarningsAsk:  0,
	cbWarnings:     1,
}

// Callback is parsed callback data.
type Callback struct {
	Kind CallbackKind
	Args []string
}

// cb builds callback data; it panics on data over 64 bytes, which is a programming error.
func cb(kind CallbackKind, args ...any) string {
	parts := []string{callbackVersion, string(kind)}
	for _, a := range args {
		switch v := a.(type) {
		case string:
			parts = append(parts, v)
		case int:
			parts = append(parts, strconv.Itoa(v))
		case int64:
			parts = append(parts, strconv.FormatInt(v, 10))
		}
	}
	s := strings.Join(parts, ":")
	if len(s) > 64 || callbackArgs[kind] != len(args) {
		panic("dialogs: bad callback data " + s)
	}
	return s
}

// ParseCallback validates data: version, kind, argument count and characters. ok is false for
// anything this version did not produce.
func ParseCallback(data string) (Callback, bool) {
	if len(data) > 64 {
		return Callback{}, false
	}
	parts := strings.Split(data, ":")
	if len(parts) < 2 || parts[0] != callbackVersion {
		return Callback{}, false
	}
	n, known := callbackArgs[CallbackKind(parts[1])]
	if !known || len(parts)-2 != n {
		return Callback{}, false
	}
	for _, p := range parts[2:] {
		if p == "" || strings.IndexFunc(p, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-')
		}) >= 0 {
			return Callback{}, false
		}
	}
	return Callback{Kind: CallbackKind(parts[1]), Args: parts[2:]}, true
}

func (c Callback) int(i int) (int64, bool) {
	n, err := strconv.ParseInt(c.Args[i], 10, 64)
	return n, err == nil && n >= 0
}
