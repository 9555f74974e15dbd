package locales

import (
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"bonusbot/dialogs"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	moscow := time.FixedZone("MSK", 3*3600)
	c, err := New(moscow, func() time.Time { return time.Date(2026, 3, 14, 12, 0, 0, 0, moscow) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSameIDs fails when a message exists in one locale and not the other.
func TestSameIDs(t *testing.T) {
	t.Parallel()
	ids := map[string][]string{}
	for _, lang := range Langs {
		raw, err := fs.ReadFile(files, "active."+lang+".toml")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := toml.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		ids[lang] = slices.Sorted(maps.Keys(m))
	}
	for _, lang := range Langs[1:] {
		for _, id := range ids[Langs[0]] {
			if !slices.Contains(ids[lang], id) {
				t.Errorf("%q is in %s but not in %s", id, Langs[0], lang)
			}
		}
		for _, id := range ids[lang] {
			if !slices.Contains(ids[Langs[0]], id) {
				t.Errorf("%q is in %s but not in %s", id, lang, Langs[0])
			}
		}
	}
}

func TestPlurals(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	tests := []struct {
		lang string
		n    int64
		want string
	}{
		{"ru", 1, "У вас 1\u00a0балл."},
		{"ru", 2, "У вас 2\u00a0балла."},
		{"ru", 5, "У вас 5\u00a0баллов."},
		{"ru", 11, "У вас 11\u00a0баллов."},
		{"ru", 21, "У вас 21\u00a0балл."},
		{"ru", 1261, "У вас 1\u00a0261\u00a0балл."},
		{"ru", 0, "У вас 0\u00a0баллов."},
		{"en", 1, "You have 1\u00a0point."},
		{"en", 1261, "You have 1,261\u00a0points."},
	}
	for _, tt := range tests {
		if got := c.Render(tt.lang, dialogs.T("balance.text", "Points", tt.n)); got != tt.want {
			t.Errorf("Render(%s, balance.text %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestDates(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	thisYear := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	nextYear := time.Date(2027, 12, 12, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		lang string
		text dialogs.Text
		want string
	}{
		{"ru", dialogs.T("balance.burn", "Points", int64(150), "On", thisYear, "Days", int64(15)),
			"Ближайшее сгорание: 150\u00a0баллов\u00a0— 31\u00a0декабря (через 15\u00a0дней)."},
		{"ru", dialogs.T("notice.gift", "Points", int64(100), "Phone", "+7 916 123-45-01", "Until", nextYear),
			"Вам подарили 100\u00a0баллов! Отправитель: +7 916 123-45-01. Срок: до 12\u00a0декабря\u00a02027."},
		{"en", dialogs.T("balance.burn", "Points", int64(1), "On", thisYear, "Days", int64(1)),
			"Next expiry: 1\u00a0point on 31\u00a0December (in 1\u00a0day)."},
	}
	for _, tt := range tests {
		if got := c.Render(tt.lang, tt.text); got != tt.want {
			t.Errorf("Render(%s, %s) = %q, want %q", tt.lang, tt.text.ID, got, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lang string
		n    int64
		want string
	}{{"ru", 999, "999"}, {"ru", 1000, "1\u00a0000"}, {"ru", 1234567, "1\u00a0234\u00a0567"}, {"en", 1261, "1,261"}, {"en", -3000, "-3,000"}} {
		if got := Number(tt.lang, tt.n); got != tt.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

// TestMenuLabels checks every main-menu label is understood when typed back, and fits 20 characters.
func TestMenuLabels(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, lang := range Langs {
		for _, id := range []string{"menu.balance", "menu.forecast", "menu.catalog", "menu.gift", "menu.history", "menu.support", "menu.settings"} {
			label := c.Render(lang, dialogs.T(id))
			if dialogs.CommandOf(label) == "" {
				t.Errorf("%s %s: label %q is not a command", lang, id, label)
			}
			if n := len([]rune(label)); n > 20 {
				t.Errorf("%s %s: label %q has %d characters, want ≤ 20", lang, id, label, n)
			}
		}
	}
}

// TestEveryIDRenders renders every message with no data: a template error would show the raw id.
func TestEveryIDRenders(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, lang := range Langs {
		raw, _ := fs.ReadFile(files, "active."+lang+".toml")
		var m map[string]any
		if err := toml.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for id := range m {
			if strings.HasPrefix(id, "unit.") {
				continue
			}
			args := map[string]any{"Points": int64(1), "Cost": int64(1), "After": int64(1), "Balance": int64(1), "Missing": int64(1),
				"Days": int64(1), "On": time.Now(), "At": time.Now(), "Max": int64(3000), "Page": int64(1), "Pages": int64(1),
				"Phone": "+7 916 ***-**-67", "Title": "100 SMS", "Category": "SMS", "Code": "123456", "Kind": "gift",
				"Tries": int64(4), "Have": int64(10), "Seconds": int64(40), "Minutes": int64(15),
				// support
				"Account": int64(12), "Phones": "+7 916 ***-**-67", "Lang": "ru", "Name": "Анна", "ID": int64(3), "Reason": "x",
				"Tx": int64(99), "Idle": "24h0m0s", "Opens": "09:00", "Tomorrow": true,
				"Cap": int64(3000), "Titles": "«100 SMS»", "App": true, "What": "начисление", "Until": time.Now(), "Burns": "50 баллов сгорят 10 января", "Text": "покажите код на кассе",
				// warnings
				"Soon": int64(1), "More": true}
			if got := c.Render(lang, dialogs.Text{ID: id, Args: args}); got == id || strings.Contains(got, "<no value>") {
				t.Errorf("Render(%s, %s) = %q", lang, id, got)
			}
		}
	}
}

// The help text names every command the bot advertises, /app only when asked to, and the codes.
func TestHelpNamesEveryCommand(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	for _, lang := range Langs {
		without := c.Render(lang, dialogs.T("help.text", "App", false))
		with := c.Render(lang, dialogs.T("help.text", "App", true))
		for _, cmd := range dialogs.Commands {
			if cmd == dialogs.CmdHelp { // the reader is in it
				continue
			}
			if !strings.Contains(without, "/"+cmd) {
				t.Errorf("%s help lacks /%s: %q", lang, cmd, without)
			}
		}
		if strings.Contains(without, "/app") || !strings.Contains(with, "/app") {
			t.Errorf("%s help: /app shown %v without the Mini App and %v with it", lang, strings.Contains(without, "/app"), strings.Contains(with, "/app"))
		}
		if !strings.Contains(without, "*111*455*0#") || !strings.Contains(without, "22") {
			t.Errorf("%s help does not say that codes work: %q", lang, without)
		}
	}
}

// A sentence after an amount names no pronoun that must agree with it: «Они сгорят» after «1 балл»
// or «21 балл» is wrong, as "They" is after "1 point" (UX.md, the recipient's notice).
func TestNoPronounAfterAnAmount(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	on := time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		lang string
		text dialogs.Text
		want string
	}{
		{"ru", dialogs.T("notice.adjust.credit", "Points", int64(21), "Balance", int64(521), "On", on),
			"Начислили вам 21\u00a0балл по решению поддержки. Срок: до 14\u00a0марта\u00a02027. Теперь у вас 521\u00a0балл."},
		{"en", dialogs.T("notice.adjust.credit", "Points", int64(1), "Balance", int64(501), "On", on),
			"We added 1\u00a0point to your account, as agreed with support. Valid until 14\u00a0March\u00a02027. You now have 501\u00a0points."},
		{"en", dialogs.T("notice.gift", "Points", int64(1), "Phone", "+7 916 123-45-01", "Until", on),
			"You got 1\u00a0point as a gift from +7 916 123-45-01! Valid until 14\u00a0March\u00a02027."},
	}
	for _, tt := range tests {
		if got := c.Render(tt.lang, tt.text); got != tt.want {
			t.Errorf("Render(%s, %s) =\n%q, want\n%q", tt.lang, tt.text.ID, got, tt.want)
		}
	}
}

// A dash between an amount and its date is tied to the amount by a no-break space, so a narrow screen
// (the Mini App at 320 px) never starts a line with it.
func TestDashNeverStartsALine(t *testing.T) {
	t.Parallel()
	c := newCatalog(t)
	on := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, text := range []dialogs.Text{
		dialogs.T("balance.burn", "Points", int64(17), "On", on, "Days", int64(34)),
		dialogs.T("notice.burn.next", "Points", int64(37), "On", on),
	} {
		if got := c.Render("ru", text); strings.Contains(got, " —") || !strings.Contains(got, "\u00a0—") {
			t.Errorf("Render(ru, %s) = %q, want a no-break space before the dash", text.ID, got)
		}
	}
}
