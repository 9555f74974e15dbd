package bot

import (
	"context"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
)

// setCommands registers the command list: Russian as the default, English for English clients.
func (b *Bot) setCommands(ctx context.Context) error {
	for _, lang := range []string{"ru", "en"} {
		var cmds []models.BotCommand
		for _, c := range dialogs.Commands {
			cmds = append(cmds, models.BotCommand{Command: c, Description: b.texts.Render(lang, dialogs.T("command."+c))})
		}
		p := &tg.SetMyCommandsParams{Commands: cmds}
		if lang != "ru" {
			p.LanguageCode = lang
		}
		if _, err := b.api.SetMyCommands(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
