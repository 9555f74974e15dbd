package bot_test

import (
	"strings"
	"testing"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
)

// With MINIAPP_URL the bot's menu button and /app open the Mini App.
func TestMiniAppButtonAndCommand(t *testing.T) {
	t.Parallel()
	const url = "https://bonus.example/app/"
	b := setup(t, bot.Options{MiniAppURL: url}, nil)
	u := b.srv.User(501, "ru")
	u.Say("/app")
	c := expect(t, b, u, "на одной странице")
	if !strings.Contains(c.Markup, `"web_app":{"url":"`+url+`"}`) {
		t.Errorf("/app markup = %s, want a web_app button to %s", c.Markup, url)
	}
	menu := call(t, b, "setChatMenuButton")
	if m := menu.Data["menu_button"]; !strings.Contains(m, `"type":"web_app"`) || !strings.Contains(m, url) {
		t.Errorf("menu button = %s, want the Mini App", m)
	}
	if cmds := call(t, b, "setMyCommands"); !strings.Contains(cmds.Data["commands"], `"command":"app"`) {
		t.Errorf("commands = %s, want /app among them", cmds.Data["commands"])
	}
}

// Without MINIAPP_URL there is no Mini App: the menu button is the command list and /app is not a command.
func TestNoMiniAppWithoutURL(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	u := b.srv.User(501, "ru")
	u.Say("/app")
	if c := b.srv.Next(t, u.ID); strings.Contains(c.Markup, "web_app") {
		t.Errorf("/app without MINIAPP_URL = %q %s", c.Text, c.Markup)
	}
	if m := call(t, b, "setChatMenuButton").Data["menu_button"]; !strings.Contains(m, `"type":"commands"`) {
		t.Errorf("menu button = %s, want the command list", m)
	}
	if cmds := call(t, b, "setMyCommands"); strings.Contains(cmds.Data["commands"], `"command":"app"`) {
		t.Errorf("commands = %s, want no /app", cmds.Data["commands"])
	}
}

// call is the bot's first call of method. The bot announces its commands and menu button before it
// polls, so by the time it has answered a message, those calls are recorded.
func call(t *testing.T, b *bundle, method string) bottest.Call {
	t.Helper()
	calls := b.srv.Calls(method)
	if len(calls) == 0 {
		t.Fatalf("the bot never called %s", method)
	}
	return calls[0]
}
