package support

import (
	"strings"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// cardLines is what agents see of an account: masked phones and id, language, balance and the
// nearest burn, debt, whether it is blocked, the last operations and the open orders. Phones are
// masked: agents did not type them, and a topic's title and card are seen by the whole team.
func cardLines(c ledger.Card) []dialogs.Text {
	phones := make([]string, len(c.Account.Phones))
	for i, p := range c.Account.Phones {
		phones[i] = ledger.MaskPhone(p)
	}
	lines := []dialogs.Text{dialogs.T("agent.card.title", "Account", c.Account.ID, "Phones", strings.Join(phones, ", "))}
	if len(c.Languages) > 0 {
		lines = append(lines, dialogs.T("agent.card.language", "Lang", strings.Join(c.Languages, ", ")))
	}
	if c.Account.Blocked {
		lines = append(lines, dialogs.T("agent.card.blocked"))
	}
	lines = append(lines, balanceLines(c.Balance)...)
	if len(c.Recent) == 0 {
		lines = append(lines, dialogs.T("agent.card.no_ops"))
	} else {
		lines = append(lines, dialogs.T("agent.card.ops"))
		lines = append(lines, opLines(c.Recent)...)
	}
	if len(c.Orders) == 0 {
		lines = append(lines, dialogs.T("agent.card.no_orders"))
	} else {
		lines = append(lines, dialogs.T("agent.card.orders"))
		for _, o := range c.Orders {
			lines = append(lines, dialogs.T("agent.card.order", "ID", o.ID, "Title", o.TitleRU, "Code", o.Code, "Cost", o.Cost, "At", o.At))
		}
	}
	return append(lines, dialogs.T("agent.card.commands"))
}

func balanceLines(b ledger.Balance) []dialogs.Text {
	lines := []dialogs.Text{dialogs.T("agent.card.balance", "Points", b.Points)}
	if b.NextBurn != nil {
		lines = append(lines, dialogs.T("agent.card.burn", "Points", b.NextBurn.Points, "On", b.NextBurn.On))
	}
	if b.Debt > 0 {
		lines = append(lines, dialogs.T("agent.card.debt", "Points", b.Debt))
	}
	return lines
}

// opLines words operations as the subscriber's history does, with the detail agents need: the
// adjusting agent and reason, an item code, the other side of a gift (masked).
func opLines(ops []ledger.Operation) []dialogs.Text {
	lines := make([]dialogs.Text, 0, len(ops))
	for _, op := range ops {
		detail := op.Detail
		if strings.HasPrefix(detail, "+") {
			detail = ledger.MaskPhone(detail)
		}
		abs := op.Points
		if abs < 0 {
			abs = -abs
		}
		lines = append(lines, dialogs.T("history.line", "At", op.At, "Points", op.Points, "Abs", abs,
			"Kind", dialogs.T("history.kind."+op.Kind, "Fallback", op.Kind), "Detail", detail))
	}
	return lines
}
