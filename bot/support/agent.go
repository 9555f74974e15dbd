package support

import (
	"context"
	"errors"
	"strings"
	"unicode/utf16"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Agent handles the agents' traffic (bot.Support): everything from the support group, a message a
// member of the group forwarded to the bot's private chat, and a subscriber's edit of a message
// (which the topic's copy follows). Anything from a non-member is
// ignored: only the support team may act on accounts or write to subscribers.
func (d *Desk) Agent(ctx context.Context, u *models.Update) (bool, error) {
	switch {
	case u.Message != nil && u.Message.Chat.ID == d.opts.ChatID:
		return true, d.fromGroup(ctx, u.Message, false)
	case u.EditedMessage != nil && u.EditedMessage.Chat.ID == d.opts.ChatID:
		return true, d.fromGroup(ctx, u.EditedMessage, true)
	case u.EditedMessage != nil && u.EditedMessage.Chat.Type == models.ChatTypePrivate:
		return d.subscriberEdited(ctx, u.EditedMessage) // a subscriber's edit: followed in the topic if it went there
	case u.Message != nil && u.Message.Chat.Type == models.ChatTypePrivate && u.Message.ForwardOrigin != nil && u.Message.From != nil:
		member, err := d.isMember(ctx, u.Message.From.ID)
		if err != nil { // the subscriber's message must not wait for Telegram's answer about agents
			d.log.WarnContext(ctx, "support: membership check failed; treating the sender as a subscriber", "user_id", u.Message.From.ID, "err", err)
		}
		if !member {
			return false, nil // a subscriber forwarding something: the dialogs' business
		}
		return true, d.forwardedToBot(ctx, u.Message)
	}
	return false, nil
}

// fromGroup handles a message (or an edit) in the support group.
func (d *Desk) fromGroup(ctx context.Context, m *models.Message, edited bool) error {
	if m.From == nil {
		return nil
	}
	anonymous := m.SenderChat != nil && m.SenderChat.ID == d.opts.ChatID // an admin writing as the group
	if !anonymous {
		if m.From.IsBot {
			return nil
		}
		member, err := d.isMember(ctx, m.From.ID)
		if err != nil {
			return err
		}
		if !member {
			d.log.InfoContext(ctx, "support: ignoring a non-member in the support group", "user_id", m.From.ID)
			return nil
		}
	}
	if !hasContent(m) {
		return nil // service messages: topic created, member joined…
	}
	thread := 0
	if m.IsTopicMessage {
		thread = m.MessageThreadID
	}
	if thread == 0 { // General: the place to ask who sent a forwarded message
		if m.ForwardOrigin != nil && !edited {
			return d.queueCard(ctx, thread, m.ID, m.ForwardOrigin)
		}
		return nil
	}
	account, ok, err := d.store.TopicAccount(ctx, d.opts.ChatID, thread)
	if err != nil || !ok {
		return err // a topic of the team's own
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if strings.HasPrefix(strings.TrimSpace(text), "!") {
		return nil // an internal note stays in the topic
	}
	if cmd, args, ok := command(m); ok {
		if edited {
			return nil
		}
		if anonymous {
			d.note(ctx, account, thread, dialogs.T("agent.anonymous"))
			return nil
		}
		return d.command(ctx, account, thread, m.From, cmd, args)
	}
	if edited {
		return d.editAnswer(ctx, m, anonymous)
	}
	return d.answer(ctx, account, thread, m, anonymous)
}

// hasContent says m is something a person wrote, not a service message.
func hasContent(m *models.Message) bool {
	return m.Text != "" || m.Caption != "" || len(m.Photo) > 0 || m.Document != nil || m.Sticker != nil ||
		m.Voice != nil || m.Video != nil || m.VideoNote != nil || m.Audio != nil || m.Animation != nil ||
		m.Location != nil || m.Contact != nil || m.Venue != nil || m.Poll != nil || m.Dice != nil
}

// command reads "/adjust@bonusbot +100 reason" as ("adjust", "+100 reason").
func command(m *models.Message) (cmd, args string, ok bool) {
	for _, e := range m.Entities {
		if e.Type == models.MessageEntityTypeBotCommand && e.Offset == 0 {
			head, rest, _ := strings.Cut(m.Text, " ")
			head, _, _ = strings.Cut(strings.TrimPrefix(head, "/"), "@")
			return strings.ToLower(head), strings.TrimSpace(rest), true
		}
	}
	return "", "", false
}

// answer copies an agent's message to the subscriber: to the author of the message it replies to,
// else to the account's latest writer. An account that never wrote to support has no one to reach.
func (d *Desk) answer(ctx context.Context, account int64, thread int, m *models.Message, anonymous bool) error {
	var target ledger.SupportMessage
	found := false
	if r := m.ReplyToMessage; r != nil {
		sm, ok, err := d.store.SupportMessageInTopic(ctx, d.opts.ChatID, r.ID)
		if err != nil {
			return err
		}
		found = ok && sm.AccountID == account
		target = sm
	}
	conv, open, err := d.store.OpenConversationOf(ctx, d.opts.ChatID, account)
	if err != nil {
		return err
	}
	if !found { // to whoever wrote last; no reply context: the answer stands alone
		target = ledger.SupportMessage{UserChatID: conv.UserChatID}
		if target.UserChatID == 0 { // no open conversation: the last writer of any
			sm, ok, err := d.store.LastSubscriberMessage(ctx, d.opts.ChatID, account)
			if err != nil {
				return err
			}
			if !ok {
				d.note(ctx, account, thread, dialogs.T("agent.no_recipient"))
				return nil
			}
			target.UserChatID = sm.UserChatID
		}
	}
	if !open { // the agent picks up a closed conversation again
		if conv, _, err = d.store.OpenConversation(ctx, d.opts.ChatID, account, 0); err != nil {
			return err
		}
	}
	agent := int64(0)
	if !anonymous {
		agent = m.From.ID
	}
	sent, err := d.deliver(ctx, target.UserChatID, target.UserMsgID, m, d.agentName(m, anonymous))
	switch {
	case errors.Is(err, tg.ErrorForbidden):
		d.note(ctx, account, thread, dialogs.T("agent.undelivered"))
		return nil
	case err != nil:
		d.log.ErrorContext(ctx, "support: answer not delivered", "account_id", account, "chat_id", target.UserChatID, "err", err)
		d.note(ctx, account, thread, dialogs.T("agent.failed"))
		return nil
	}
	return d.store.RecordSupportMessage(ctx, ledger.SupportMessage{ChatID: d.opts.ChatID, TopicMsgID: m.ID,
		UserChatID: target.UserChatID, UserMsgID: sent, Direction: ledger.SupportOut, AccountID: account,
		ConversationID: conv.ID, AgentID: agent})
}

// agentName is the name to show the subscriber, or "" when names are not shown.
func (d *Desk) agentName(m *models.Message, anonymous bool) string {
	if !d.opts.ShowAgentName || anonymous || m.From == nil {
		return ""
	}
	return m.From.FirstName
}

// deliver copies m into the subscriber's chat, as a reply to replyTo when it is not 0, and returns
// the copy's id. With a name, a text becomes a new message "Оператор Анна:\n…" and media get the
// name above their caption; the formatting of the agent's text is kept.
func (d *Desk) deliver(ctx context.Context, chat int64, replyTo int, m *models.Message, name string) (int, error) {
	var reply *models.ReplyParameters
	if replyTo != 0 {
		reply = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	prefix := d.prefix(ctx, chat, name)
	var sent int
	err := d.tg.Call(ctx, chat, func(ctx context.Context, api *tg.Bot) error {
		if prefix != "" && m.Text != "" {
			text, ents := withPrefix(prefix, m.Text, m.Entities)
			msg, err := api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chat, Text: text, Entities: ents, ReplyParameters: reply})
			if err == nil {
				sent = msg.ID
			}
			return err
		}
		p := &tg.CopyMessageParams{ChatID: chat, FromChatID: d.opts.ChatID, MessageID: m.ID, ReplyParameters: reply}
		if prefix != "" {
			p.Caption, p.CaptionEntities = withPrefix(prefix, m.Caption, m.CaptionEntities)
		}
		id, err := api.CopyMessage(ctx, p)
		if err == nil {
			sent = id.ID
		}
		return err
	})
	return sent, err
}

// prefix is "Оператор Анна:\n" in the subscriber's language, or "" without a name.
func (d *Desk) prefix(ctx context.Context, chat int64, name string) string {
	if name == "" {
		return ""
	}
	lang := "ru"
	if l, err := d.store.LinkedAccount(ctx, Channel, chat); err == nil {
		lang = l.Language
	}
	return d.texts.Render(lang, dialogs.T("support.agent_name", "Name", name)) + "\n"
}

// withPrefix puts prefix before text and moves the entities along (offsets count UTF-16 units).
func withPrefix(prefix, text string, ents []models.MessageEntity) (string, []models.MessageEntity) {
	shift := len(utf16.Encode([]rune(prefix)))
	out := make([]models.MessageEntity, len(ents))
	for i, e := range ents {
		e.Offset += shift
		out[i] = e
	}
	return prefix + text, out
}

// editAnswer carries an agent's edit over to the subscriber's copy.
func (d *Desk) editAnswer(ctx context.Context, m *models.Message, anonymous bool) error {
	sm, ok, err := d.store.SupportMessageInTopic(ctx, d.opts.ChatID, m.ID)
	if err != nil || !ok || sm.Direction != ledger.SupportOut {
		return err
	}
	prefix := d.prefix(ctx, sm.UserChatID, d.agentName(m, anonymous))
	err = d.tg.Call(ctx, sm.UserChatID, func(ctx context.Context, api *tg.Bot) error {
		if m.Text != "" {
			text, ents := withPrefix(prefix, m.Text, m.Entities)
			_, err := api.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: sm.UserChatID, MessageID: sm.UserMsgID, Text: text, Entities: ents})
			return err
		}
		caption, ents := withPrefix(prefix, m.Caption, m.CaptionEntities)
		_, err := api.EditMessageCaption(ctx, &tg.EditMessageCaptionParams{ChatID: sm.UserChatID, MessageID: sm.UserMsgID,
			Caption: caption, CaptionEntities: ents})
		return err
	})
	if err != nil && !strings.Contains(err.Error(), "message is not modified") {
		d.log.WarnContext(ctx, "support: edit not carried over", "account_id", sm.AccountID, "err", err)
	}
	return nil
}
