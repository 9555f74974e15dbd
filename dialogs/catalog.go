package dialogs

import (
	"slices"
	"strings"

	"bonusbot/ledger"
)

// Catalogue: sections, then the items in stock with their cost in pages of PageSize (the sold-out ones
// named, not offered). Navigation edits the same message; an item card is the confirmation of a redeem
// (see redeem.go), and its [Отмена] leads back to the page it was opened from.

// PageSize is how many items a catalogue page lists.
const PageSize = 6

// sectionOrder is the order subscribers meet the catalogue's sections in: everyday rewards first,
// partners' offers last. Sections not named here follow, by name.
var sectionOrder = []string{"sms", "communication", "internet", "services", "content", "entertainment", "partners", "charity"}

// Categories are the sections of a catalogue, in the order subscribers see them.
func Categories(items []ledger.Item) []string {
	var cats []string
	for _, it := range items {
		if !slices.Contains(cats, it.Category) {
			cats = append(cats, it.Category)
		}
	}
	rank := func(c string) int {
		if i := slices.Index(sectionOrder, c); i >= 0 {
			return i
		}
		return len(sectionOrder)
	}
	slices.SortStableFunc(cats, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return cats
}

func inStock(it ledger.Item) bool { return it.Stock == nil || *it.Stock > 0 }

func showCategories(s State, in Input) (State, []Output) { return catalogCategories(s, in, false) }
func editCategories(s State, in Input) (State, []Output) { return catalogCategories(s, in, true) }

func catalogCategories(s State, in Input, edit bool) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	cats := Categories(r.Items)
	if len(cats) == 0 {
		return s, []Output{Say(T("catalog.empty"))}
	}
	out := Say(T("catalog.title"))
	out.Edit = edit
	for i, c := range cats {
		out = out.WithButtons(Button{T("catalog.category."+c, "Fallback", c), cb(cbCategory, i, 0)})
	}
	return s, []Output{out}
}

// categoryPage opens a page of a section. Leaving an item card for its page drops the card's
// confirmation, so its [Обменять] is stale from then on.
func categoryPage(s State, c Callback) (State, []Output) {
	cat, ok1 := c.int(0)
	page, ok2 := c.int(1)
	if !ok1 || !ok2 {
		return stale(s)
	}
	if s.Step == StepRedeemConfirm {
		s = s.menu()
	}
	return s, []Output{do(Effect{Kind: EffCatalog, Then: func(s State, in Input) (State, []Output) {
		return catalogItems(s, in, int(cat), int(page))
	}})}
}

// catalogItems continues EffCatalog for one section (an index into Categories) and page.
func catalogItems(s State, in Input, cat, page int) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	cats := Categories(r.Items)
	if cat >= len(cats) {
		return stale(s)
	}
	var items []ledger.Item
	var soldOut []string
	for _, it := range r.Items {
		switch {
		case it.Category != cats[cat]:
		case inStock(it):
			items = append(items, it)
		default:
			soldOut = append(soldOut, "«"+title(s, it)+"»")
		}
	}
	pages := max((len(items)+PageSize-1)/PageSize, 1)
	page = min(page, pages-1)
	lines := []Text{T("catalog.items", "Category", T("catalog.category."+cats[cat], "Fallback", cats[cat]),
		"Page", int64(page+1), "Pages", int64(pages), "Balance", r.Balance.Points)}
	if len(soldOut) > 0 {
		lines = append(lines, T("catalog.out_of_stock", "Titles", strings.Join(soldOut, ", ")))
	}
	out := Say(lines...)
	out.Edit = true
	for _, it := range items[page*PageSize : min((page+1)*PageSize, len(items))] {
		label := "button.item"
		if it.Cost > r.Balance.Points {
			label = "button.item.locked" // still opens: the card says how many points are missing
		}
		out = out.WithButtons(Button{T(label, "Title", title(s, it), "Cost", it.Cost), cb(cbItemOnPage, it.Code, cat, page)})
	}
	var nav []Button
	if page > 0 {
		nav = append(nav, Button{T("button.prev"), cb(cbCategory, cat, page-1)})
	}
	if page < pages-1 {
		nav = append(nav, Button{T("button.next"), cb(cbCategory, cat, page+1)})
	}
	if len(nav) > 0 {
		out = out.WithButtons(nav...)
	}
	return s, []Output{out.WithButtons(Button{T("button.back"), cb(cbCatalog)})}
}
