package dialogs

import (
	"context"

	"bonusbot/ledger"
)

// Expiry warnings: what the warning job says (ExpiryWarning, ExpiryWarningSMS), and the switch in
// settings that turns them off and on again. The job itself is bot/expiry; the rules of who is
// warned when are the ledger's (ledger.PlanWarnings).

// EffWarnings reads a linked account's warnings switch (Code "") or sets it (Code "on" or "off");
// the Result's WarningsOn is the switch afterwards.
const EffWarnings EffectKind = "warnings"

// WarningsLedger is what the switch needs of the ledger (*ledger.Store).
type WarningsLedger interface {
	WarningsOn(ctx context.Context, accountID int64) (bool, error)
	SetWarnings(ctx context.Context, accountID int64, on bool) error
}

// ExpiryWarning is a warning as a chat message: what burns and when, with the catalogue and gifting a
// tap away, and a way to stop warnings.
func ExpiryWarning(n ledger.WarningNotice) Output {
	return Say(warningText(n)).
		WithButtons(Button{T("button.catalog"), cb(cbCatalog)}, Button{T("button.gift"), cb(cbGiftStart)}).
		WithButtons(Button{T("button.warnings_stop"), cb(cbWarnings, "off")})
}

func warningText(n ledger.WarningNotice) Text {
	if n.Kind == ledger.WarnWeekBefore {
		return T("warn.week_before", "On", n.BurnOn, "Points", n.Burn, "Days", DaysUntil(n.Today, n.BurnOn),
			"Soon", n.Soon, "More", n.Soon > n.Burn)
	}
	return T("warn.weekly", "Soon", n.Soon, "On", n.Nearest.On, "Points", n.Nearest.Points)
}

// ExpiryWarningSMS is a warning as an SMS: the burn it is about, and where to act on it.
func ExpiryWarningSMS(n ledger.WarningNotice) Text {
	if n.Kind == ledger.WarnWeekBefore {
		return T("sms.warn", "On", n.BurnOn, "Points", n.Burn)
	}
	return T("sms.warn", "On", n.Nearest.On, "Points", n.Nearest.Points)
}

// warningsAsk shows the switch, replacing the settings message.
func warningsAsk(s State) (State, []Output) {
	return s.menu(), []Output{do(Effect{Kind: EffWarnings, Then: func(s State, in Input) (State, []Output) { return warningsShow(s, in, true) }})}
}

// warningsSet turns warnings "on" or "off" (a button in settings, or on a warning itself).
func warningsSet(s State, c Callback) (State, []Output) {
	if c.Args[0] != "on" && c.Args[0] != "off" {
		return stale(s)
	}
	return s.menu(), []Output{do(Effect{Kind: EffWarnings, Code: c.Args[0], Then: func(s State, in Input) (State, []Output) { return warningsShow(s, in, false) }})}
}

// warningsShow continues EffWarnings: the switch's state and the button that flips it.
func warningsShow(s State, in Input, edit bool) (State, []Output) {
	if in.Result.Err != nil {
		return s, []Output{refuse(in.Result.Err, KeepKeyboard)}
	}
	var out Output
	switch on := in.Result.WarningsOn; {
	case edit && on:
		out = Say(T("warnings.on")).WithButtons(Button{T("button.warnings_off"), cb(cbWarnings, "off")})
	case edit:
		out = Say(T("warnings.off")).WithButtons(Button{T("button.warnings_on"), cb(cbWarnings, "on")})
	case on:
		out = Say(T("warnings.turned_on"))
	default:
		out = Say(T("warnings.turned_off"))
	}
	out.Edit = edit
	return s, []Output{out}
}

// warnings runs EffWarnings.
func (e *Engine) warnings(ctx context.Context, s *State, eff Effect) (bool, error) {
	if eff.Code == "" {
		return e.ledger.WarningsOn(ctx, s.Account)
	}
	on := eff.Code == "on"
	return on, e.ledger.SetWarnings(ctx, s.Account, on)
}
