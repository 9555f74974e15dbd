package dialogs

import (
	"strconv"
	"strings"
)

// Callback data is "1:kind:arg…": a version, a short kind and its arguments, at most 64 bytes (Telegram's
// limit). Buttons that spend (redeem, gift, unlink) also carry what was shown and the dialog's Nonce, and
// the step checks them against the State, so a stale or forged button is refused and changes nothing.
const callbackVersion = "1"

// Callback kinds and how many arguments each carries.
var callbackArgs = map[string]int{
	"cat":  0, // catalogue categories
	"cg":   2, // category index, page
	"it":   1, // item card: code
	"rc":   3, // redeem confirm: code, cost, nonce
	"gc":   2, // gift confirm: points, nonce
	"x":    0, // cancel the dialog
	"bal":  0,
	"fc":   0, // forecast
	"h":    1, // history before tx id (0: newest)
	"lg":   0, // language choice
	"lang": 1, // set language: ru, en
	"set":  0, // settings
	"add":  0, // add a phone
	"ulq":  0, // ask to unlink
	"ul":   1, // unlink confirm: nonce
	"rs":   0, // resend the code
	"gift": 0,
	"wq":   0, // expiry warnings switch
	"ws":   1, // set expiry warnings: on, off
}

// Callback is parsed callback data.
type Callback struct {
	Kind string
	Args []string
}

// cb builds callback data; it panics on data over 64 bytes, which is a programming error.
func cb(kind string, args ...any) string {
	parts := []string{callbackVersion, kind}
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
	n, known := callbackArgs[parts[1]]
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
	return Callback{Kind: parts[1], Args: parts[2:]}, true
}

func (c Callback) int(i int) (int64, bool) {
	n, err := strconv.ParseInt(c.Args[i], 10, 64)
	return n, err == nil && n >= 0
}
