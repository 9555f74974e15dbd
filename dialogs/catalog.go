package dialogs

import "bonusbot/ledger"

// Catalogue: categories, then items with cost in pages of PageSize. Navigation edits the same message;
// an item card is the confirmation of a redeem (see redeem.go).

// PageSize is how many items a catalogue page lists.
const PageSize = 6

func categories(items []ledger.Item) []string {
	var cats []string
	for _, it := range items { // Catalog is ordered by category
		if len(cats) == 0 || cats[len(cats)-1] != it.Category {
			cats = append(cats, it.Category)
		}
	}
	return cats
}

func showCategories(s State, in Input) (State, []Output) { return catalogCategories(s, in, false) }
func editCategories(s State, in Input) (State, []Output) { return catalogCategories(s, in, true) }

func catalogCategories(s State, in Input, edit bool) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	cats := categories(r.Items)
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

func categoryPage(s State, c Callback) (State, []Output) {
	cat, ok1 := c.int(0)
	page, ok2 := c.int(1)
	if !ok1 || !ok2 {
		return stale(s)
	}
	return s, []Output{do(Effect{Kind: EffCatalog, Then: func(s State, in Input) (State, []Output) {
		return catalogItems(s, in, int(cat), int(page))
	}})}
}

// catalogItems continues EffCatalog for one category (an index into the catalogue's categories) and page.
func catalogItems(s State, in Input, cat, page int) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	cats := categories(r.Items)
	if cat >= len(cats) {
		return stale(s)
	}
	var items []ledger.Item
	for _, it := range r.Items {
		if it.Category == cats[cat] {
			items = append(items, it)
		}
	}
	pages := (len(items) + PageSize - 1) / PageSize
	page = min(page, max(pages-1, 0))
	out := Say(T("catalog.items", "Category", T("catalog.category."+cats[cat], "Fallback", cats[cat]),
		"Page", int64(page+1), "Pages", int64(pages), "Balance", r.Balance.Points))
	out.Edit = true
	for _, it := range items[page*PageSize : min((page+1)*PageSize, len(items))] {
		label := "button.item"
		if it.Cost > r.Balance.Points {
			label = "button.item.locked" // still opens: the card says how many points are missing
		}
		out = out.WithButtons(Button{T(label, "Title", title(s, it), "Cost", it.Cost), cb(cbItem, it.Code)})
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
