package ledger

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseAmount reads a rouble amount as billing writes it ("500", "500.5", "500.00", "1 234,56") into
// kopecks. It refuses negatives, more than two decimals, anything that is not a plain number
// (a silently rounded amount would mint or lose points), and amounts over MaxEventAmount.
func ParseAmount(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = digitGroupSeparators.Replace(t)
	t = strings.Replace(t, ",", ".", 1)
	whole, frac, hasDot := strings.Cut(t, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (len(frac) == 0 || len(frac) > 2 || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidAmount, s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	rub, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || rub > MaxEventAmount/100 { // checked before rub*100, which could overflow
		return 0, fmt.Errorf("%w: %q", ErrInvalidAmount, s)
	}
	kop, _ := strconv.ParseInt(frac, 10, 64)
	if rub*100+kop > MaxEventAmount {
		return 0, fmt.Errorf("%w: %q is over %d roubles", ErrInvalidAmount, s, MaxEventAmount/100)
	}
	return rub*100 + kop, nil
}

// digitGroupSeparators are the ways billing groups thousands; built once, as ParseAmount runs per CSV row.
var digitGroupSeparators = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "_", "")

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
