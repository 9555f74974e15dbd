package dialogs

import (
	"slices"
	"testing"
	"time"
)

func TestSupportSteps(t *testing.T) {
	t.Parallel()
	on := SupportInfo{On: true}
	closed := SupportInfo{On: true, Closed: true, OpensAt: at.Add(10 * time.Hour)}
	inSupport := linked()
	inSupport.Step, inSupport.Until = StepSupport, at.Add(time.Hour)
	noted := inSupport
	noted.Noted = closed.OpensAt
	tests := []struct {
		name     string
		s        State
		in       Input
		want     string // first line id, "do:…" for an effect, "relay" for a relay
		wantStep Step
	}{
		{"no relay: today's text", linked(), Input{Command: "support"}, "support.text", StepMenu},
		{"unlinked: today's text", State{}, Input{Command: "support", Support: on}, "support.text", StepMenu},
		{"/support enters", linked(), Input{Command: "support", Support: on}, "support.entered", StepSupport},
		{"the word оператор enters", linked(), Input{Text: "Оператор", Support: on}, "support.entered", StepSupport},
		{"the menu label enters", linked(), Input{Text: "💬 Поддержка", Support: on}, "support.entered", StepSupport},
		{"text goes to the agent", inSupport, Input{Text: "сколько у меня баллов?", MessageID: 5, Support: on}, "relay", StepSupport},
		{"a typed word goes to the agent", inSupport, Input{Text: "баланс", MessageID: 5, Support: on}, "relay", StepSupport},
		{"an item code goes to the agent", inSupport, Input{Text: "22", MessageID: 5, Support: on}, "relay", StepSupport},
		{"a photo goes to the agent", inSupport, Input{MessageID: 6, Support: on}, "relay", StepSupport},
		{"a contact goes to the agent", inSupport, Input{MessageID: 7, Contact: &Contact{Phone: "+79160000001"}, Support: on}, "relay", StepSupport},
		{"after hours: relayed and told once", inSupport, Input{Text: "алло", MessageID: 8, Support: closed}, "relay", StepSupport},
		{"after hours, told already", noted, Input{Text: "алло", MessageID: 8, Support: closed}, "relay", StepSupport},
		{"the exact menu label is the bot's", inSupport, Input{Text: "💰 Баланс", MessageID: 9, Support: SupportInfo{On: true, Label: CmdBalance}}, "do:balance", StepSupport},
		{"/balance stays in support", inSupport, Input{Command: "balance", Support: on}, "do:balance", StepSupport},
		{"/history stays in support", inSupport, Input{Command: "history", Support: on}, "do:history", StepSupport},
		{"/support again", inSupport, Input{Command: "support", Support: on}, "support.already", StepSupport},
		{"unknown command", inSupport, Input{Command: "foo", Support: on}, "support.hint", StepSupport},
		{"/cancel leaves", inSupport, Input{Command: "cancel", Support: on}, "support.left", StepMenu},
		{"the button leaves", inSupport, Input{Data: "1:x", Support: on}, "support.left", StepMenu},
		{"a balance button stays", inSupport, Input{Data: "1:bal", Support: on}, "do:balance", StepSupport},
		{"/gift leaves for the gift dialog", inSupport, Input{Command: "gift", Support: on}, "do:gift_start", StepMenu},
		{"relay switched off meanwhile", inSupport, Input{Text: "алло", MessageID: 5}, "unknown.hint", StepMenu},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.At = at
			s, outs := Handle(tt.s, tt.in)
			got := firstID(outs)
			if len(outs) > 0 && outs[0].Relay != nil {
				got = "relay"
				if r := outs[0].Relay; r.Account != tt.s.Account || r.MessageID != tt.in.MessageID {
					t.Errorf("relay = %+v, want account %d message %d", r, tt.s.Account, tt.in.MessageID)
				}
			}
			if got != tt.want || s.Step != tt.wantStep {
				t.Errorf("Handle(%s, %+v) = %s in %q, want %s in %q", tt.s.Step, tt.in, got, s.Step, tt.want, tt.wantStep)
			}
		})
	}
}

// TestSupportAfterHours: the subscriber hears once per closed stretch when agents will answer.
func TestSupportAfterHours(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	now := time.Date(2026, 3, 14, 22, 0, 0, 0, msk)
	closed := SupportInfo{On: true, Closed: true, OpensAt: time.Date(2026, 3, 15, 9, 0, 0, 0, msk)}
	s, outs := Handle(linked(), Input{Command: "support", Support: closed, At: now})
	if len(outs) != 1 || len(outs[0].Lines) != 2 || outs[0].Lines[1].ID != "support.after_hours" ||
		outs[0].Lines[1].Args["Opens"] != "09:00" || outs[0].Lines[1].Args["Tomorrow"] != true {
		t.Fatalf("entering after hours = %+v", outs)
	}
	s.Until = now.Add(48 * time.Hour) // the Engine's doing
	s, outs = Handle(s, Input{Text: "алло", MessageID: 1, Support: closed, At: now.Add(time.Minute)})
	if len(outs) != 1 || outs[0].Relay == nil {
		t.Errorf("first message after entering = %+v, want only the relay (the hours were told on entering)", outs)
	}
	next := closed
	next.OpensAt = closed.OpensAt.AddDate(0, 0, 1) // the next evening
	_, outs = Handle(s, Input{Text: "алло", MessageID: 2, Support: next, At: now.Add(24 * time.Hour)})
	if len(outs) != 2 || outs[1].Lines[0].ID != "support.after_hours" {
		t.Errorf("first message of the next closed stretch = %+v, want the relay and the hours", outs)
	}
}

// With a relay, an unlinked user is told that linking comes first and gets the contact button; without
// one, only how to reach support.
func TestUnlinkedSupportSaysToLinkFirst(t *testing.T) {
	t.Parallel()
	for _, relay := range []bool{true, false} {
		_, out := Handle(State{}, Input{Command: "support", At: at, Support: SupportInfo{On: relay}})
		var lines []string
		for _, l := range out[0].Lines {
			lines = append(lines, l.ID)
		}
		told := slices.Contains(lines, "support.link_first")
		if told != relay || lines[0] != "support.text" {
			t.Errorf("relay %v: lines %v, want support.text and the link-first line only with a relay", relay, lines)
		}
		if relay && out[0].Keyboard != ContactKeyboard {
			t.Errorf("relay on: keyboard %v, want the contact keyboard", out[0].Keyboard)
		}
	}
}
