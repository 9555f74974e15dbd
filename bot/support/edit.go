package support

import (
	"cmp"
	"context"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// A subscriber who edits a message they sent to support has the copy in the topic edited too
// (editMessageText, or editMessageCaption for media), so agents read what the subscriber now says.
// Where the copy cannot be edited, a note under it in the topic gives the new words. The edit goes
// through the outbox behind the message itself, so a copy still waiting there is made first.

// editPost is a subscriber's edit of a message in their chat.
type editPost struct {
	Chat     int64                  `json:"chat"`
	Message  int                    `json:"message"`
	Media    bool                   `json:"media,omitempty"` // the caption of a photo, video… changed; else the text
	Text     string                 `json:"text,omitempty"`  // the text or the caption, as it is now
	Entities []models.MessageEntity `json:"entities,omitempty"`
}

// subscriberEdited queues a subscriber's edit of a message in their private chat. Only text and
// captions are carried over: a live location moving is an edit too, and agents need no stream of it.
// Whether the message went to support is known once the outbox reaches the edit (editIn).
func (d *Desk) subscriberEdited(ctx context.Context, m *models.Message) (bool, error) {
	media := len(m.Photo) > 0 || m.Video != nil || m.Document != nil || m.Audio != nil || m.Animation != nil || m.Voice != nil
	if m.Text == "" && !media {
		return false, nil
	}
	e := editPost{Chat: m.Chat.ID, Message: m.ID, Media: media, Text: m.Text, Entities: m.Entities}
	if media {
		e.Text, e.Entities = m.Caption, m.CaptionEntities
	}
	return true, d.queuePost(ctx, ledger.SupportPostEdit, e)
}

// editIn edits the copy of a relayed message; a message that never went to support is left alone.
func (d *Desk) editIn(ctx context.Context, e editPost) error {
	sm, ok, err := d.store.SupportMessageInChat(ctx, e.Chat, e.Message)
	if err != nil || !ok || sm.Direction != ledger.SupportIn || sm.ChatID != d.opts.ChatID {
		return err
	}
	err = d.post(ctx, func(ctx context.Context, api *tg.Bot) error {
		if e.Media {
			_, err := api.EditMessageCaption(ctx, &tg.EditMessageCaptionParams{ChatID: d.opts.ChatID, MessageID: sm.TopicMsgID,
				Caption: e.Text, CaptionEntities: e.Entities})
			return err
		}
		_, err := api.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: d.opts.ChatID, MessageID: sm.TopicMsgID,
			Text: e.Text, Entities: e.Entities})
		return err
	})
	switch {
	case err == nil || strings.Contains(err.Error(), "message is not modified"):
		return nil
	case !permanent(err):
		return err // tried again, in order
	}
	d.log.InfoContext(ctx, "support: copy not editable; noting the edit", "account_id", sm.AccountID, "topic_msg_id", sm.TopicMsgID, "err", err)
	t, ok, err := d.store.Topic(ctx, d.opts.ChatID, sm.AccountID)
	if err != nil || !ok {
		return err
	}
	text := d.texts.Render(agentLang, dialogs.T("agent.subscriber_edited", "Text", cmp.Or(e.Text, "—")))
	return d.inTopic(ctx, &t, func(ctx context.Context, api *tg.Bot, thread int) error {
		_, err := api.SendMessage(ctx, &tg.SendMessageParams{ChatID: d.opts.ChatID, MessageThreadID: thread, Text: text,
			ReplyParameters: &models.ReplyParameters{MessageID: sm.TopicMsgID, AllowSendingWithoutReply: true}})
		return err
	})
}
