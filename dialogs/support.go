package dialogs

import (
	"slices"
	"sync"
	"time"
)

// Support mode: /support, the menu's «💬 Поддержка» or the words «оператор», «поддержка» put a linked
// subscriber in touch with human agents, where a relay serves the channel (bot/support). Then every
// message goes to the agents (a Relay output the channel delivers), even «сколько у меня баллов?»;
// only /commands and the exact labels of the menu are the bot's. /cancel or the button leaves. Where
// no relay serves the channel, /support says how to reach support, as before.

// StepSupport: the subscriber's messages go to the support agents.
const StepSupport Step = "support"

// Relay asks the channel to hand a subscriber's message to the support agents.
type Relay struct {
	Account   int64
	MessageID int // the message to copy, in the subscriber's chat
}

// SupportOptions configure the dialogs' side of the support relay.
type SupportOptions struct {
	Channels []string      // channels a relay serves ("telegram" with SUPPORT_CHAT_ID); the rest get support.text
	Hours    Hours         // agents' working hours (SUPPORT_HOURS); outside them subscribers are told when to expect an answer
	Idle     time.Duration // support mode lasts this long after the subscriber's last message (SUPPORT_IDLE, 24 h)
}

// SupportInfo is what the support steps need beyond the State; the Engine sets it on every Input.
type SupportInfo struct {
	On      bool      // a relay serves this channel
	Closed  bool      // outside working hours
	OpensAt time.Time // when Closed: the next opening
	Label   string    // the command whose exact menu label (in any language) Text is; "" otherwise
}

// supportInfo fills Input.Support.
func (e *Engine) supportInfo(in Input) SupportInfo {
	info := SupportInfo{On: slices.Contains(e.opts.Support.Channels, in.Channel)}
	if !info.On {
		return info
	}
	open, at := e.opts.Support.Hours.Next(in.At, e.opts.Location)
	info.Closed, info.OpensAt = !open, at
	info.Label = e.labels.command(e.texts, in.Text)
	return info
}

// menuLabels maps each rendered main-menu label, in every language, to its command. Typed words
// ("баланс") are not labels: in support mode they go to the agents.
type menuLabels struct {
	once sync.Once
	m    map[string]string
}

func (l *menuLabels) command(texts Renderer, text string) string {
	l.once.Do(func() {
		l.m = map[string]string{}
		if texts == nil {
			return
		}
		for _, lang := range []string{"ru", "en"} {
			for _, row := range MenuLabels {
				for _, id := range row {
					label := texts.Render(lang, T(id))
					l.m[label] = CommandOf(label)
				}
			}
		}
	})
	return l.m[text]
}

// supportEnter answers /support: support mode where a relay serves the channel, else how to reach support.
func supportEnter(s State, in Input) (State, []Output) {
	if !in.Support.On {
		return s, []Output{Say(T("support.text"))}
	}
	s = s.menu()
	s.Step = StepSupport
	lines := []Text{T("support.entered")}
	if in.Support.Closed {
		s.Noted = in.Support.OpensAt
		lines = append(lines, afterHours(in))
	}
	return s, []Output{Say(lines...).WithButtons(Button{T("button.support_leave"), cb(cbCancel)})}
}

// support handles a subscriber in support mode.
func support(s State, in Input) (State, []Output) {
	if !in.Support.On { // the relay was switched off meanwhile
		return Handle(s.menu(), in)
	}
	var cmd string
	switch {
	case in.Data != "":
		return supportButton(s, in)
	case in.Command != "":
		cmd = command(in)
	case in.Support.Label != "":
		cmd = in.Support.Label
	}
	if cmd != "" {
		return supportCommand(s, in, cmd)
	}
	if in.MessageID == 0 { // nothing the channel could copy
		return s, []Output{Say(T("support.hint"))}
	}
	outs := []Output{{Relay: &Relay{Account: s.Account, MessageID: in.MessageID}}}
	if in.Support.Closed && !s.Noted.Equal(in.Support.OpensAt) { // once per closed stretch
		s.Noted = in.Support.OpensAt
		outs = append(outs, Say(afterHours(in)))
	}
	return s, outs
}

// supportCommand: leaving commands leave; looking up the balance and the like keeps the subscriber
// in touch with the agents; commands that start a dialog leave for it.
func supportCommand(s State, in Input, cmd string) (State, []Output) {
	switch cmd {
	case CmdCancel, CmdMenu, CmdStart:
		return supportLeave(s)
	case CmdSupport:
		return s, []Output{Say(T("support.already")).WithButtons(Button{T("button.support_leave"), cb(cbCancel)})}
	case CmdBalance, CmdForecast, CmdCatalog, CmdHistory, CmdHelp:
		_, outs := runCommand(s, in, cmd)
		return s, outs
	case "?":
		return s, []Output{Say(T("support.hint"))}
	}
	return runCommand(s.menu(), in, cmd)
}

// lookButtons are the read-only buttons a subscriber may press without leaving support mode.
var lookButtons = map[CallbackKind]bool{cbCatalog: true, cbCategory: true, cbBalance: true, cbForecast: true, cbHistory: true}

func supportButton(s State, in Input) (State, []Output) {
	c, ok := ParseCallback(in.Data)
	switch {
	case ok && c.Kind == cbCancel:
		return supportLeave(s)
	case ok && lookButtons[c.Kind]:
		_, outs := button(s, in)
		return s, outs
	}
	return button(s, in)
}

func supportLeave(s State) (State, []Output) {
	return s.menu(), []Output{Say(T("support.left")).WithKeyboard(MenuKeyboard)}
}

// afterHours tells when agents will answer: "after 09:00", or "tomorrow after 09:00".
func afterHours(in Input) Text {
	opens := in.Support.OpensAt
	tomorrow := !in.At.IsZero() && opens.Sub(in.At) > 0 && !sameDay(opens, in.At, opens.Location())
	return T("support.after_hours", "Opens", opens.Format("15:04"), "Tomorrow", tomorrow)
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}
