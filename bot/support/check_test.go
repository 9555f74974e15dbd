package support_test

import (
	"context"
	"strings"
	"testing"

	tg "github.com/go-telegram/bot"

	"bonusbot/bot/bottest"
	"bonusbot/bot/support"
)

// TestCheckGroup: the start-up check passes a forum where the bot may manage topics and names what
// is wrong with anything else.
func TestCheckGroup(t *testing.T) {
	t.Parallel()
	const chat = -1001000000009
	tests := []struct {
		name  string
		setup func(s *bottest.Server)
		want  string // in the error; "" for none
	}{
		{"forum, bot an admin managing topics", func(s *bottest.Server) { s.SetGroup(chat, true); s.SetAdmin(chat, bottest.BotID, true) }, ""},
		{"forum, bot its owner", func(s *bottest.Server) { s.SetGroup(chat, true); s.SetMember(chat, bottest.BotID, "creator") }, ""},
		{"unknown chat", func(s *bottest.Server) {}, "cannot see the chat"},
		{"topics off", func(s *bottest.Server) { s.SetGroup(chat, false); s.SetAdmin(chat, bottest.BotID, true) }, "turn Topics on"},
		{"bot a plain member", func(s *bottest.Server) { s.SetGroup(chat, true); s.SetMember(chat, bottest.BotID, "member") }, "not an administrator"},
		{"bot not in the group", func(s *bottest.Server) { s.SetGroup(chat, true) }, `not an administrator (it is "left")`},
		{"admin without topics", func(s *bottest.Server) { s.SetGroup(chat, true); s.SetAdmin(chat, bottest.BotID, false) }, "without the right to manage topics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := bottest.New(t)
			tt.setup(srv)
			api, err := tg.New(srv.Token, tg.WithServerURL(srv.URL), tg.WithSkipGetMe())
			if err != nil {
				t.Fatal(err)
			}
			err = support.CheckGroup(context.Background(), api, chat)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckGroup = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckGroup = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
