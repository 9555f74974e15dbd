package demo

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"testing"
)

// plainSpace is a number split from its unit or its next digits by a breaking space: «2 000 ₽» and
// «500 МБ» are written with no-break spaces (UX.md), so a line never ends between them.
var plainSpace = regexp.MustCompile(`\d (\d|₽|МБ|ГБ|SMS|дн|мин)`)

// The demo catalogue follows UX.md as the bot's own words do: no-break spaces in Russian prices and
// amounts, the rouble sign before the number in English.
func TestDemoCatalogueFollowsUX(t *testing.T) {
	t.Parallel()
	rows, err := csv.NewReader(bytes.NewReader(Catalog)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	enRouble := regexp.MustCompile(`\d\s*₽`)
	for _, r := range rows[1:] {
		for _, name := range []string{"title_ru", "how_to_ru"} {
			if v := r[col[name]]; plainSpace.MatchString(v) {
				t.Errorf("item %s %s = %q: a breaking space inside an amount", r[col["code"]], name, v)
			}
		}
		if v := r[col["title_en"]]; enRouble.MatchString(v) {
			t.Errorf("item %s title_en = %q: English puts ₽ before the number", r[col["code"]], v)
		}
	}
}
