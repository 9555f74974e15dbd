package dialogs

import (
	"strings"

	"bonusbot/ledger"
)

// History: the operations, HistoryPage at a time, newest first. [Старее ›] and [‹ Новее] edit the same
// message and appear only where they lead somewhere; the oldest page offers [Меню].

// HistoryPage is how many operations a history page shows.
const HistoryPage = 8

func showHistory(s State, in Input) (State, []Output) { return historyPage(s, in, false) }
func editHistory(s State, in Input) (State, []Output) { return historyPage(s, in, true) }

func historyPage(s State, in Input, edit bool) (State, []Output) {
	r := in.Result
	if r.Err != nil {
		return s, []Output{refuse(r.Err, MenuKeyboard)}
	}
	if len(r.Ops) == 0 {
		out := Say(T("history.empty"))
		out.Edit = edit
		return s, []Output{out}
	}
	title := T("history.title")
	if r.Newer {
		title = T("history.title.older")
	}
	lines := []Text{title}
	for _, op := range r.Ops {
		lines = append(lines, HistoryLine(s.Lang, op, r.Items))
	}
	out := Say(lines...)
	out.Edit = edit
	var nav []Button
	if r.Newer {
		nav = append(nav, Button{T("button.newer"), cb(cbHistoryNewer, r.Ops[0].TxID)})
	}
	if r.Older {
		nav = append(nav, Button{T("button.older"), cb(cbHistory, r.Ops[len(r.Ops)-1].TxID)})
	} else {
		nav = append(nav, Button{T("button.menu"), cb(cbMenu)})
	}
	return s, []Output{out.WithButtons(nav...)}
}

// HistoryLine is one operation as a subscriber reads it: its date, signed points and what happened
// («начисление · мобильная связь», «обмен · «50 SMS»», «вы подарили +7 916 123-45-67»). items name the
// rewards. Other channels lay out the same arguments (At, Points, What) with their own message ids.
func HistoryLine(lang string, op ledger.Operation, items []ledger.Item) Text {
	return T("history.line", "At", op.At, "Points", op.Points, "What", what(lang, op, items))
}

// what says what an operation was. Only what the subscriber knows is shown: the number they gifted
// to (they typed it), not who gave to them nor which agent adjusted.
func what(lang string, op ledger.Operation, items []ledger.Item) Text {
	id := "history.what." + op.Kind
	switch op.Kind {
	case "accrual":
		return T(id, "Category", T("earn.category."+op.Detail, "Fallback", ""))
	case "redeem", "refund":
		name := op.Detail
		for _, it := range items {
			if it.Code == op.Detail {
				name = ItemTitle(lang, it)
			}
		}
		return T(id, "Title", name, "Code", op.PromoCode)
	case "gift_out":
		if strings.HasPrefix(op.Detail, "+") {
			return T(id, "Phone", ledger.FormatPhone(op.Detail))
		}
	}
	return T(id, "Fallback", op.Kind)
}
