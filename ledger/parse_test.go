package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"bonusbot/ledger"
)

func TestParsePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		err      error
	}{
		{"+7 (916) 123-45-67", "+79161234567", nil},
		{"89161234567", "+79161234567", nil},
		{"79161234567", "+79161234567", nil},
		{"9161234567", "+79161234567", nil},
		{" 8 916 123 45 67 ", "+79161234567", nil},
		{"+375 29 123-45-67", "+375291234567", nil},
		{"", "", ledger.ErrInvalidPhone},
		{"12345", "", ledger.ErrInvalidPhone},
		{"+7 916 123-45-6x", "", ledger.ErrInvalidPhone},
		{"+7 916 123 45 678 9", "", ledger.ErrInvalidPhone},
	}
	for _, tt := range tests {
		got, err := ledger.ParsePhone(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	if got := ledger.MaskPhone("+79161234567"); got != "+7 916 ***-**-67" {
		t.Errorf("MaskPhone = %q", got)
	}
	if got := ledger.FormatPhone("+79161234567"); got != "+7 916 123-45-67" {
		t.Errorf("FormatPhone = %q", got)
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"500", 50000, true},
		{"500.00", 50000, true},
		{"500.5", 50050, true},
		{"0.01", 1, true},
		{"1 234,56", 123456, true},
		{"0", 0, true},
		{"-5", 0, false},
		{"5.001", 0, false},
		{"5.", 0, false},
		{".5", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
		{"10000000.00", ledger.MaxEventAmount, true},
		{"10000000.01", 0, false},
		{"1000000000000", 0, false}, // the mint: 200,000,000,000 points at 5 roubles a point
	}
	for _, tt := range tests {
		got, err := ledger.ParseAmount(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"+7 (916) 123-45-67", "89161234567", "79161234567", "+375291234567", "(", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ledger.ParsePhone(s)
		if err != nil {
			if !errors.Is(err, ledger.ErrInvalidPhone) {
				t.Fatalf("ParsePhone(%q) error %v is not ErrInvalidPhone", s, err)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || len(got) < 8 || len(got) > 16 {
			t.Fatalf("ParsePhone(%q) = %q, not E.164", s, got)
		}
		again, err := ledger.ParsePhone(got)
		if err != nil || again != got {
			t.Fatalf("ParsePhone is not idempotent on %q: %q, %v", got, again, err)
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"500.00", "1 234,56", "0.01", "-1", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ledger.ParseAmount(s)
		if err != nil {
			if !errors.Is(err, ledger.ErrInvalidAmount) {
				t.Fatalf("ParseAmount(%q) error %v is not ErrInvalidAmount", s, err)
			}
			return
		}
		if k < 0 {
			t.Fatalf("ParseAmount(%q) = %d, negative", s, k)
		}
		// Writing the kopecks back as roubles must read the same amount.
		back, err := ledger.ParseAmount(fmt.Sprintf("%d.%02d", k/100, k%100))
		if err != nil || back != k {
			t.Fatalf("round trip of %q (%d): %d, %v", s, k, back, err)
		}
	})
}
