package ledger

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is where numbers written without a country code belong: the programme is Russian,
// so "89161234567" and "9161234567" are +7 numbers.
const DefaultRegion = "RU"

// ParsePhone normalises any common way of writing a number to E.164 ("+79161234567").
// "+7 (916) 123-45-67", "89161234567" and "79161234567" are one number.
func ParsePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-()./\u00a0", r):
		default:
			return "", fmt.Errorf("%w: %q", ErrInvalidPhone, s)
		}
	}
	// An 11-digit number starting with 7 is a Russian number written without the plus.
	if digits == 11 && !strings.HasPrefix(s, "+") && strings.HasPrefix(strings.TrimLeft(s, " ("), "7") {
		s = "+" + s
	}
	num, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: %q", ErrInvalidPhone, s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// MaskPhone hides the middle of a number that is not the reader's own: "+7 916 ***-**-67".
func MaskPhone(e164 string) string {
	if len(e164) == 12 && strings.HasPrefix(e164, "+7") {
		return "+7 " + e164[2:5] + " ***-**-" + e164[10:]
	}
	if len(e164) < 5 {
		return "***"
	}
	return e164[:3] + strings.Repeat("*", len(e164)-5) + e164[len(e164)-2:]
}

// FormatPhone writes a subscriber's own number the way Russians read it: "+7 916 123-45-67".
func FormatPhone(e164 string) string {
	if len(e164) == 12 && strings.HasPrefix(e164, "+7") {
		return "+7 " + e164[2:5] + " " + e164[5:8] + "-" + e164[8:10] + "-" + e164[10:]
	}
	return e164
}
