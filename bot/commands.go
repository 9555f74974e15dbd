package bot

import (
	"context"
	"fmt"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
)

// cmdApp opens the Mini App; the bot knows it only when MINIAPP_URL is set, so it is the channel's
// command, not the dialogs'.
const cmdApp = "app"

// announce registers the command list (Russian as the default, English for English clients) and the
// menu button: the Mini App when there is one, else Telegram's command list (undoing an earlier Mini App).
func (b *Bot) announce(ctx context.Context) error {
	for _, lang := range []string{"ru", "en"} {
		var cmds []models.BotCommand
		for _, c := range dialogs.Commands {
			cmds = append(cmds, models.BotCommand{Command: c, Description: b.texts.Render(lang, dialogs.T("command."+c))})
		}
		if b.opts.MiniAppURL != "" {
			cmds = append(cmds, models.BotCommand{Command: cmdApp, Description: b.texts.Render(lang, dialogs.T("command.app"))})
		}
		p := &tg.SetMyCommandsParams{Commands: cmds}
		if lang != "ru" {
			p.LanguageCode = lang
		}
		if _, err := b.api.SetMyCommands(ctx, p); err != nil {
			return fmt.Errorf("setMyCommands: %w", err)
		}
	}
	var button models.InputMenuButton = models.MenuButtonCommands{Type: models.MenuButtonTypeCommands}
	if b.opts.MiniAppURL != "" {
		button = models.MenuButtonWebApp{Type: models.MenuButtonTypeWebApp, Text: b.texts.Render("ru", dialogs.T("miniapp.menu_button")),
			WebApp: models.WebAppInfo{URL: b.opts.MiniAppURL}}
	}
	if _, err := b.api.SetChatMenuButton(ctx, &tg.SetChatMenuButtonParams{MenuButton: button}); err != nil {
		return fmt.Errorf("setChatMenuButton: %w", err)
	}
	return nil
}

// openApp answers /app with a button that opens the Mini App.
func (b *Bot) openApp(ctx context.Context, chat int64, lang string) {
	b.sendText(ctx, chat, b.texts.Render(lang, dialogs.T("miniapp.open")), &models.InlineKeyboardMarkup{
		InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: b.texts.Render(lang, dialogs.T("miniapp.open_button")),
			WebApp: &models.WebAppInfo{URL: b.opts.MiniAppURL}}}}})
}
