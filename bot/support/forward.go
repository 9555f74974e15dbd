package support

import (
	"context"
	"errors"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// An agent who forwards a subscriber's message, in the group's General topic or to the bot's
// private chat, gets that subscriber's card back, when Telegram reveals the original sender and that
// user is linked; otherwise the reason it cannot tell.

// whoSent is the card of origin's sender, or the line saying why there is none.
func (d *Desk) whoSent(ctx context.Context, origin *models.MessageOrigin) ([]dialogs.Text, error) {
	switch origin.Type {
	case models.MessageOriginTypeUser:
		link, err := d.store.LinkedAccount(ctx, Channel, origin.MessageOriginUser.SenderUser.ID)
		if errors.Is(err, ledger.ErrNotLinked) {
			return []dialogs.Text{dialogs.T("agent.forward.not_linked")}, nil
		}
		if err != nil {
			return nil, err
		}
		card, err := d.store.AccountCard(ctx, link.AccountID)
		if err != nil {
			return nil, err
		}
		return cardLines(card), nil
	case models.MessageOriginTypeHiddenUser:
		return []dialogs.Text{dialogs.T("agent.forward.hidden")}, nil
	}
	return []dialogs.Text{dialogs.T("agent.forward.not_user")}, nil
}

// queueCard answers a forward in the group's General topic, as a reply to it. The card is read
// now: it is what the agent asked about at the time.
func (d *Desk) queueCard(ctx context.Context, thread, replyTo int, origin *models.MessageOrigin) error {
	lines, err := d.whoSent(ctx, origin)
	if err != nil {
		return err
	}
	return d.queuePost(ctx, ledger.SupportPostNote, notePost{Thread: thread, ReplyTo: replyTo, Text: d.texts.Say(agentLang, lines)})
}

// forwardedToBot answers a forward in the agent's private chat with the bot.
func (d *Desk) forwardedToBot(ctx context.Context, m *models.Message) error {
	lines, err := d.whoSent(ctx, m.ForwardOrigin)
	if err != nil {
		return err
	}
	return d.tg.Call(ctx, m.Chat.ID, func(ctx context.Context, api *tg.Bot) error {
		_, err := api.SendMessage(ctx, &tg.SendMessageParams{ChatID: m.Chat.ID, Text: d.texts.Say(agentLang, lines),
			ReplyParameters: &models.ReplyParameters{MessageID: m.ID, AllowSendingWithoutReply: true}})
		return err
	})
}
