package support

import (
	"context"
	"fmt"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Relay queues a subscriber's message for the account's topic (bot.Support), in the outbox: it
// returns once the message is durable, so the update may be answered. The dialogs decided it is for
// the agents; the chat is the subscriber's own, so a subscriber can only ever reach their own
// account's topic.
func (d *Desk) Relay(ctx context.Context, chat int64, r dialogs.Relay) error {
	return d.queuePost(ctx, ledger.SupportPostRelay, relayPost{Chat: chat, Message: r.MessageID, Account: r.Account})
}

// relayIn copies one subscriber message into the topic: it opens a conversation if none is open
// (the agents then get the account's card first), makes or reopens the topic as needed, and records
// the pair so an answer finds its way back. A message already recorded was copied by a replica that
// stopped before it could mark the post done: it is not copied twice.
func (d *Desk) relayIn(ctx context.Context, r relayPost) error {
	chat := r.Chat
	if _, done, err := d.store.SupportMessageInChat(ctx, chat, r.Message); err != nil || done {
		return err
	}
	conv, opened, err := d.store.OpenConversation(ctx, d.opts.ChatID, r.Account, chat)
	if err != nil {
		return err
	}
	t, err := d.topicFor(ctx, r.Account, opened)
	if err != nil {
		return err
	}
	var copied int
	err = d.inTopic(ctx, &t, func(ctx context.Context, api *tg.Bot, thread int) error {
		id, err := api.CopyMessage(ctx, &tg.CopyMessageParams{ChatID: d.opts.ChatID, MessageThreadID: thread,
			FromChatID: chat, MessageID: r.Message})
		if err == nil {
			copied = id.ID
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("support: copy message %d of chat %d: %w", r.Message, chat, err)
	}
	return d.store.RecordSupportMessage(ctx, ledger.SupportMessage{ChatID: d.opts.ChatID, TopicMsgID: copied,
		UserChatID: chat, UserMsgID: r.Message, Direction: ledger.SupportIn, AccountID: r.Account, ConversationID: conv.ID})
}

// topicFor returns the account's topic, ready for a post: made if the account has none, reopened if
// it was closed, with the account's card posted when a conversation opens (or the topic is new).
func (d *Desk) topicFor(ctx context.Context, account int64, opened bool) (ledger.SupportTopic, error) {
	t, ok, err := d.store.Topic(ctx, d.opts.ChatID, account)
	if err != nil {
		return t, err
	}
	if !ok {
		return d.newTopic(ctx, account, "")
	}
	if t.Closed {
		err := d.post(ctx, func(ctx context.Context, api *tg.Bot) error {
			_, err := api.ReopenForumTopic(ctx, &tg.ReopenForumTopicParams{ChatID: d.opts.ChatID, MessageThreadID: t.ThreadID})
			return err
		})
		switch {
		case isThreadGone(err):
			return d.newTopic(ctx, account, "agent.recreated")
		case err != nil: // TOPIC_NOT_MODIFIED and the like: it is open, which is all we need
			d.log.WarnContext(ctx, "support: reopen topic", "account_id", account, "thread", t.ThreadID, "err", err)
		}
		if err := d.store.SetTopicClosed(ctx, d.opts.ChatID, account, false); err != nil {
			return t, err
		}
		t.Closed = false
	}
	if opened {
		return d.postCard(ctx, t)
	}
	return t, nil
}

// newTopic makes the account's topic (titled with its masked phone and id), records it and posts the
// card, preceded by note when the old topic was deleted.
func (d *Desk) newTopic(ctx context.Context, account int64, note string) (ledger.SupportTopic, error) {
	card, err := d.store.AccountCard(ctx, account)
	if err != nil {
		return ledger.SupportTopic{}, err
	}
	phone := "—"
	if len(card.Account.Phones) > 0 {
		phone = ledger.MaskPhone(card.Account.Phones[0])
	}
	name := d.texts.Render(agentLang, dialogs.T("agent.topic", "Phone", phone, "Account", account))
	var topic *models.ForumTopic
	err = d.post(ctx, func(ctx context.Context, api *tg.Bot) error {
		var err error
		topic, err = api.CreateForumTopic(ctx, &tg.CreateForumTopicParams{ChatID: d.opts.ChatID, Name: name})
		return err
	})
	if err != nil {
		return ledger.SupportTopic{}, fmt.Errorf("support: create topic: %w", err)
	}
	t := ledger.SupportTopic{ChatID: d.opts.ChatID, AccountID: account, ThreadID: topic.MessageThreadID}
	if err := d.store.SetTopic(ctx, t); err != nil {
		return t, err
	}
	d.log.InfoContext(ctx, "support: topic created", "account_id", account, "thread", t.ThreadID)
	lines := cardLines(card)
	if note != "" {
		lines = append([]dialogs.Text{dialogs.T(note)}, lines...)
	}
	return t, d.say(ctx, t.ThreadID, 0, lines)
}

// postCard posts the account's card into its topic, or into a new topic if that one is gone.
func (d *Desk) postCard(ctx context.Context, t ledger.SupportTopic) (ledger.SupportTopic, error) {
	card, err := d.store.AccountCard(ctx, t.AccountID)
	if err != nil {
		return t, err
	}
	err = d.say(ctx, t.ThreadID, 0, cardLines(card))
	if isThreadGone(err) {
		return d.newTopic(ctx, t.AccountID, "agent.recreated") // which posts the card
	}
	return t, err
}

// inTopic posts into the account's topic. If Telegram says the topic is gone (an admin deleted it),
// it makes a new one (which gets the card), updates the mapping and posts there: nothing is lost.
func (d *Desk) inTopic(ctx context.Context, t *ledger.SupportTopic, call func(ctx context.Context, api *tg.Bot, thread int) error) error {
	thread := t.ThreadID
	err := d.post(ctx, func(ctx context.Context, api *tg.Bot) error { return call(ctx, api, thread) })
	if !isThreadGone(err) {
		return err
	}
	d.log.WarnContext(ctx, "support: topic gone; making a new one", "account_id", t.AccountID, "thread", t.ThreadID)
	nt, err := d.newTopic(ctx, t.AccountID, "agent.recreated")
	if err != nil {
		return err
	}
	*t = nt
	return d.post(ctx, func(ctx context.Context, api *tg.Bot) error { return call(ctx, api, nt.ThreadID) })
}

// say posts lines into a topic (thread 0: General), as a reply to message replyTo when it is not 0.
func (d *Desk) say(ctx context.Context, thread, replyTo int, lines []dialogs.Text) error {
	return d.sayText(ctx, thread, replyTo, d.texts.Say(agentLang, lines))
}

// sayText posts text into a topic (thread 0: General), as a reply to message replyTo when it is not 0.
func (d *Desk) sayText(ctx context.Context, thread, replyTo int, text string) error {
	return d.post(ctx, func(ctx context.Context, api *tg.Bot) error {
		p := &tg.SendMessageParams{ChatID: d.opts.ChatID, MessageThreadID: thread, Text: text}
		if replyTo != 0 {
			p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
		}
		_, err := api.SendMessage(ctx, p)
		return err
	})
}

// note queues lines for a topic; the agents' answers, refusals and notices all go this way. The
// text is worded now, in the agents' language, so the outbox keeps a plain string.
func (d *Desk) note(ctx context.Context, account int64, thread int, lines ...dialogs.Text) {
	n := notePost{Account: account, Thread: thread, Text: d.texts.Say(agentLang, lines)}
	if err := d.queuePost(ctx, ledger.SupportPostNote, n); err != nil {
		d.log.ErrorContext(ctx, "support: note not queued", "account_id", account, "err", err)
	}
}

// noteIn posts a queued note.
func (d *Desk) noteIn(ctx context.Context, n notePost) error {
	if n.Account == 0 {
		return d.sayText(ctx, n.Thread, n.ReplyTo, n.Text)
	}
	t := ledger.SupportTopic{ChatID: d.opts.ChatID, AccountID: n.Account, ThreadID: n.Thread}
	return d.inTopic(ctx, &t, func(ctx context.Context, api *tg.Bot, thread int) error {
		_, err := api.SendMessage(ctx, &tg.SendMessageParams{ChatID: d.opts.ChatID, MessageThreadID: thread, Text: n.Text})
		return err
	})
}
