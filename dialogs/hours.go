package dialogs

import (
	"fmt"
	"time"
)

// Hours are the support agents' working hours in the business time zone, such as 09:00–21:00. The
// zero value means always open. A range that ends before it starts runs over midnight (21:00–09:00).
type Hours struct {
	From, To time.Duration // since local midnight; equal means always open
}

// ParseHours reads SUPPORT_HOURS: "" (always open) or "HH:MM-HH:MM".
func ParseHours(s string) (Hours, error) {
	if s == "" {
		return Hours{}, nil
	}
	var fh, fm, th, tm int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &fh, &fm, &th, &tm); err != nil || n != 4 ||
		fh < 0 || fh > 24 || th < 0 || th > 24 || fm < 0 || fm > 59 || tm < 0 || tm > 59 ||
		(fh == 24 && fm != 0) || (th == 24 && tm != 0) || len(s) > len("00:00-00:00") {
		return Hours{}, fmt.Errorf("want HH:MM-HH:MM such as 09:00-21:00, got %q", s)
	}
	h := Hours{From: time.Duration(fh)*time.Hour + time.Duration(fm)*time.Minute,
		To: time.Duration(th)*time.Hour + time.Duration(tm)*time.Minute}
	switch {
	case h.From == h.To:
		return Hours{}, fmt.Errorf("want a range that is not empty, got %q (leave it empty for always open)", s)
	case h.From%(24*time.Hour) == h.To%(24*time.Hour): // 00:00-24:00
		return Hours{}, nil
	}
	return h, nil
}

// AlwaysOpen says there are no working hours.
func (h Hours) AlwaysOpen() bool { return h.From == h.To }

// String writes the hours as SUPPORT_HOURS does.
func (h Hours) String() string {
	if h.AlwaysOpen() {
		return ""
	}
	return clock(h.From) + "-" + clock(h.To)
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// Next says whether agents are on duty at t (in loc) and, when they are not, when they next are.
func (h Hours) Next(t time.Time, loc *time.Location) (open bool, opensAt time.Time) {
	if h.AlwaysOpen() {
		return true, time.Time{}
	}
	local := t.In(loc)
	y, m, d := local.Date()
	at := func(day int, off time.Duration) time.Time {
		return time.Date(y, m, day, int(off.Hours()), int(off.Minutes())%60, 0, 0, loc)
	}
	from, to := at(d, h.From), at(d, h.To)
	if h.From < h.To { // within one day
		switch {
		case local.Before(from):
			return false, from
		case local.Before(to):
			return true, time.Time{}
		}
		return false, at(d+1, h.From)
	}
	// Over midnight: closed only between To and From of the same day.
	if !local.Before(to) && local.Before(from) {
		return false, from
	}
	return true, time.Time{}
}
