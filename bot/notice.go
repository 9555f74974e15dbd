package bot

import (
	"context"

	tg "github.com/go-telegram/bot"

	"bonusbot/dialogs"
)

// SendOutput sends one dialogs.Output, in lang and with its buttons, to a chat outside any
// conversation (an expiry warning), within the same rate limits as replies. An error means Telegram
// did not take it; a chat that blocked the bot is marked inactive, as for any send.
func (b *Bot) SendOutput(ctx context.Context, chatID int64, lang string, o dialogs.Output) error {
	text, markup := b.texts.Say(lang, o.Lines), b.markup(lang, o)
	return b.send(ctx, chatID, func(ctx context.Context) error {
		_, err := b.api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chatID, Text: text, ReplyMarkup: markup})
		return err
	})
}
