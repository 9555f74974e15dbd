// Package locales holds every word the bot says, in Russian and English (active.*.toml, embedded),
// and renders dialogs.Text with CLDR plurals, grouped numbers and dates the way each locale writes them.
package locales

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"

	"bonusbot/dialogs"
)

//go:embed active.*.toml
var files embed.FS

// Langs are the languages the bot speaks, the first being the default.
var Langs = []string{"ru", "en"}

// Catalog renders message ids. It is safe for concurrent use.
type Catalog struct {
	ids      []string // every message id, from the first language's file
	bundle   *i18n.Bundle
	locs     map[string]*i18n.Localizer
	parsers  map[string]*cachingParser
	location *time.Location
	now      func() time.Time
}

// New loads the embedded messages. location is the business time zone for times; now decides
// whether a date needs its year.
func New(location *time.Location, now func() time.Time) (*Catalog, error) {
	if now == nil {
		now = time.Now
	}
	b := i18n.NewBundle(language.Russian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, locs: map[string]*i18n.Localizer{}, parsers: map[string]*cachingParser{}, location: location, now: now}
	for _, lang := range Langs {
		if _, err := b.LoadMessageFileFS(files, "active."+lang+".toml"); err != nil {
			return nil, fmt.Errorf("locales: %w", err)
		}
		c.locs[lang] = i18n.NewLocalizer(b, lang)
		c.parsers[lang] = &cachingParser{i18ntemplate.TextParser{Funcs: c.funcMap(lang)}}
	}
	ids, err := messageIDs("active." + Langs[0] + ".toml")
	if err != nil {
		return nil, err
	}
	c.ids = ids
	return c, nil
}

// Render writes t in lang ("ru" when lang is not one of Langs). A missing id renders as the
// "Fallback" argument if there is one (data-driven ids such as catalogue categories), else as the id.
func (c *Catalog) Render(lang string, t dialogs.Text) string {
	if _, ok := c.locs[lang]; !ok {
		lang = Langs[0]
	}
	args := make(map[string]any, len(t.Args))
	for k, v := range t.Args {
		if nested, ok := v.(dialogs.Text); ok {
			v = c.Render(lang, nested)
		}
		args[k] = v
	}
	s, err := c.locs[lang].Localize(&i18n.LocalizeConfig{MessageID: t.ID, TemplateData: args, TemplateParser: c.parsers[lang]})
	if err != nil {
		if fb, ok := t.Args["Fallback"].(string); ok {
			return fb
		}
		return t.ID
	}
	return s
}

// Strings renders, in lang, every message whose id starts with one of prefixes; only messages without
// arguments belong there (a page's fixed labels).
func (c *Catalog) Strings(lang string, prefixes ...string) map[string]string {
	out := map[string]string{}
	for _, id := range c.ids {
		for _, p := range prefixes {
			if strings.HasPrefix(id, p) {
				out[id] = c.Render(lang, dialogs.T(id))
			}
		}
	}
	return out
}

// messageIDs lists the ids of a message file: go-i18n keeps them but does not tell.
func messageIDs(name string) ([]string, error) {
	var m map[string]any
	if _, err := toml.DecodeFS(files, name, &m); err != nil {
		return nil, fmt.Errorf("locales: %s: %w", name, err)
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids, nil
}

// cachingParser is go-i18n's text parser with our functions, marked cacheable so each message is
// parsed once rather than on every call (go-i18n re-parses whenever Funcs are given). It is safe:
// a message belongs to one language, and each language always gets its own parser.
type cachingParser struct {
	i18ntemplate.TextParser
}

func (*cachingParser) Cacheable() bool { return true }

// Say renders one Output's lines, joined by new lines.
func (c *Catalog) Say(lang string, lines []dialogs.Text) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = c.Render(lang, l)
	}
	return strings.Join(parts, "\n")
}

// plural renders a counted word ("unit.points": 1 261 балл) with its CLDR plural form.
func (c *Catalog) plural(lang, id string, n int64) string {
	s, err := c.locs[lang].Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n,
		TemplateData: map[string]any{"N": Number(lang, n)}})
	if err != nil {
		return Number(lang, n)
	}
	return s
}

func (c *Catalog) funcMap(lang string) template.FuncMap {
	return template.FuncMap{
		"num":    func(n int64) string { return Number(lang, n) },
		"points": func(n int64) string { return c.plural(lang, "unit.points", n) },
		"days":   func(n int64) string { return c.plural(lang, "unit.days", n) },
		"burn":   func(n int64) string { return c.plural(lang, "unit.burns", n) }, // «21 балл сгорит»
		"signed": func(n int64) string { return Signed(lang, n) },
		"date":   func(d time.Time) string { return c.date(lang, d) },
		"day":    func(t time.Time) string { return c.date(lang, t.In(c.location)) },
		"month":  func(m time.Month) string { return c.month(lang, m) },
		"rub": func(n int64) string {
			if lang == "ru" {
				return Number(lang, n) + "\u00a0₽"
			}
			return "₽" + Number(lang, n)
		},
	}
}

// date writes a calendar date: «31 декабря», with the year only when it is not this year.
func (c *Catalog) date(lang string, d time.Time) string {
	s := strconv.Itoa(d.Day()) + "\u00a0" + c.month(lang, d.Month())
	if d.Year() != c.now().In(c.location).Year() {
		s += "\u00a0" + strconv.Itoa(d.Year())
	}
	return s
}

func (c *Catalog) month(lang string, m time.Month) string {
	s, err := c.locs[lang].Localize(&i18n.LocalizeConfig{MessageID: "month." + strconv.Itoa(int(m))})
	if err != nil {
		return m.String()
	}
	return s
}

// Signed writes a change of points with its sign: "+1 261", "−50" (U+2212, the minus sign).
func Signed(lang string, n int64) string {
	if n < 0 {
		return "−" + Number(lang, -n)
	}
	return "+" + Number(lang, n)
}

// Number groups thousands: "1 261" with a no-break space in Russian, "1,261" in English.
func Number(lang string, n int64) string {
	sep := "\u00a0"
	if lang == "en" {
		sep = ","
	}
	neg := n < 0
	if neg {
		n = -n
	}
	digits := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
