package dialogs

import (
	"testing"
	"time"
)

func TestHours(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 3, d, hh, mm, 0, 0, msk) }
	tests := []struct {
		hours string
		at    time.Time
		open  bool
		opens time.Time
	}{
		{"", day(14, 3, 0), true, time.Time{}},
		{"09:00-21:00", day(14, 8, 59), false, day(14, 9, 0)},
		{"09:00-21:00", day(14, 9, 0), true, time.Time{}},
		{"09:00-21:00", day(14, 20, 59), true, time.Time{}},
		{"09:00-21:00", day(14, 21, 0), false, day(15, 9, 0)},
		{"09:00-21:00", day(31, 23, 0), false, time.Date(2026, 4, 1, 9, 0, 0, 0, msk)},
		{"21:00-09:00", day(14, 23, 0), true, time.Time{}},
		{"21:00-09:00", day(14, 8, 0), true, time.Time{}},
		{"21:00-09:00", day(14, 12, 0), false, day(14, 21, 0)},
		{"00:00-24:00", day(14, 12, 0), true, time.Time{}},
	}
	for _, tt := range tests {
		h, err := ParseHours(tt.hours)
		if err != nil {
			t.Fatalf("ParseHours(%q) = %v", tt.hours, err)
		}
		open, opens := h.Next(tt.at.UTC(), msk)
		if open != tt.open || !opens.Equal(tt.opens) {
			t.Errorf("Hours(%q).Next(%s) = %v, %s; want %v, %s", tt.hours, tt.at, open, opens, tt.open, tt.opens)
		}
	}
	for _, bad := range []string{"9-21", "09:00", "25:00-26:00", "09:00-09:00", "09:60-10:00", "09:00-21:00x", "00:00-24:00 "} {
		if _, err := ParseHours(bad); err == nil {
			t.Errorf("ParseHours(%q) = nil error", bad)
		}
	}
}
