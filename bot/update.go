package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
)

// handleTimeout bounds one update's work, so a stuck dependency cannot hold a chat forever.
const handleTimeout = 30 * time.Second

// handleOnce handles u unless it was handled before, by any replica (claims). It says whether u is
// over — handled now or before — so Telegram may be told; false means it was given up (a shutdown
// past its grace) and must come again. Without Redis there is no claim to take: u is handled all the
// same (a user is better answered twice than not at all), which most likely means an apology that
// the service is unavailable.
func (b *Bot) handleOnce(ctx context.Context, u *models.Update) bool {
	cl, done, err := b.claims.take(ctx, u.ID)
	switch {
	case err != nil && ctx.Err() != nil: // cancelled while another replica's claim stood
		return false
	case err != nil:
		b.log.WarnContext(ctx, "update claim: redis unavailable; handling without one", "update_id", u.ID, "err", err)
		observeUpdates(b.handle)(ctx, u)
		return ctx.Err() == nil
	case done:
		return true
	}
	observeUpdates(b.handle)(ctx, u)
	handled := ctx.Err() == nil // cancelled midway: given back, so the next delivery handles it in full
	b.claims.finish(context.WithoutCancel(ctx), cl, handled)
	return handled
}

// handle answers one update. It recovers panics (the library does not), so one bad update never
// kills the bot; every failure is logged here, once, with the update id.
func (b *Bot) handle(ctx context.Context, u *models.Update) {
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	chat := chatID(u)
	defer func() {
		if r := recover(); r != nil {
			b.log.ErrorContext(ctx, "update panicked", "update_id", u.ID, "chat_id", chat, "panic", r)
			failed(ctx, "panic")
			b.apologize(ctx, u, chat, "error.internal", nil)
		}
	}()
	if err := b.process(ctx, u, chat); err != nil {
		msg := "error.internal"
		if dialogs.Unavailable(err) {
			msg = "error.unavailable"
			b.log.WarnContext(ctx, "update failed: a dependency is unavailable", "update_id", u.ID, "chat_id", chat, "err", err)
		} else {
			b.log.ErrorContext(ctx, "update failed", "update_id", u.ID, "chat_id", chat, "err", err)
		}
		failed(ctx, "failed")
		b.apologize(ctx, u, chat, msg, err)
	}
}

// apologize tells the user that their update failed (msg: error.internal, error.unavailable), in the
// language the dialogs know for them, else their client's.
func (b *Bot) apologize(ctx context.Context, u *models.Update, chat int64, msg string, err error) {
	if chat == 0 {
		return
	}
	lang := "ru"
	if from := sender(u); from != nil {
		lang = dialogs.PickLang(from.LanguageCode)
	}
	var known *langError
	if errors.As(err, &known) {
		lang = known.lang
	}
	if u.CallbackQuery != nil {
		b.answer(ctx, u.CallbackQuery.ID, "") // or the button keeps spinning
	}
	b.sendText(ctx, chat, b.texts.Render(lang, dialogs.T(msg)), nil)
}

// langError is a failure of the dialogs for a user whose language they knew.
type langError struct {
	lang string
	err  error
}

func (e *langError) Error() string { return e.err.Error() }
func (e *langError) Unwrap() error { return e.err }

func sender(u *models.Update) *models.User {
	switch {
	case u.Message != nil:
		return u.Message.From
	case u.CallbackQuery != nil:
		return &u.CallbackQuery.From
	}
	return nil
}

func (b *Bot) process(ctx context.Context, u *models.Update, chat int64) error {
	if b.opts.Support != nil { // agents' traffic: the support group, and messages they forward to the bot
		if handled, err := b.opts.Support.Agent(ctx, u); handled || err != nil {
			return err
		}
	}
	if u.Message == nil && u.CallbackQuery == nil {
		return nil // a subscriber's edit: what was said has been answered
	}
	from := sender(u)
	if from == nil || chat == 0 || from.IsBot {
		return nil // channel posts and the like: not for this bot
	}
	cq := u.CallbackQuery
	if !isPrivate(u) {
		return b.groupReply(ctx, u, chat, from)
	}
	if ok, err := b.allow(ctx, from, chat); err != nil || !ok {
		if cq != nil {
			b.answer(ctx, cq.ID, "")
		}
		return err
	}
	in := input(u, from, chat)
	if in.Command == cmdApp && b.opts.MiniAppURL != "" {
		b.openApp(ctx, chat, dialogs.PickLang(from.LanguageCode))
		return nil
	}
	stopTyping, typed := make(chan struct{}), make(chan struct{})
	go func() { // slow work: show "typing…"; the update waits for this goroutine below
		defer close(typed)
		t := time.NewTimer(300 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			b.api.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: chat, Action: models.ChatActionTyping})
		case <-stopTyping:
		}
	}()
	reply, err := b.engine.Handle(ctx, in)
	close(stopTyping)
	<-typed
	if err != nil {
		if reply.Lang != "" {
			err = &langError{reply.Lang, err}
		}
		return err // apologize answers the button
	}
	var editID int
	if cq != nil {
		toast := ""
		for _, o := range reply.Outputs {
			if o.Toast != nil {
				toast = b.texts.Render(reply.Lang, *o.Toast)
			}
		}
		b.answer(ctx, cq.ID, toast) // every press is answered, or the button spins
		if m := cq.Message.Message; m != nil {
			editID = m.ID
		}
	}
	return b.render(ctx, chat, editID, reply)
}

func isPrivate(u *models.Update) bool {
	if u.Message != nil {
		return u.Message.Chat.Type == models.ChatTypePrivate
	}
	if m := u.CallbackQuery.Message.Message; m != nil {
		return m.Chat.Type == models.ChatTypePrivate
	}
	return chatID(u) > 0 // private chats have the user's (positive) id; groups are negative
}

// groupReply: in groups the bot only says "write to me in private", and only to commands and
// mentions (all Telegram delivers in privacy mode; with it off, the group's chatter stays unanswered).
func (b *Bot) groupReply(ctx context.Context, u *models.Update, chat int64, from *models.User) error {
	text := b.texts.Render(dialogs.PickLang(from.LanguageCode), dialogs.T("group.private"))
	if u.CallbackQuery != nil {
		b.answer(ctx, u.CallbackQuery.ID, text)
		return nil
	}
	for _, e := range u.Message.Entities {
		if e.Type == models.MessageEntityTypeBotCommand || e.Type == models.MessageEntityTypeMention {
			b.sendText(ctx, chat, text, nil)
			return nil
		}
	}
	return nil
}

// allow applies the per-user inbound limit. The first message over it gets one "slow down" a
// minute; the rest are dropped.
func (b *Bot) allow(ctx context.Context, from *models.User, chat int64) (bool, error) {
	ok, warn, err := b.users.allow(ctx, from.ID, time.Now())
	if err != nil {
		b.log.WarnContext(ctx, "inbound limit: redis unavailable; counting in this replica", "err", err)
	}
	if warn {
		b.sendText(ctx, chat, b.texts.Render(dialogs.PickLang(from.LanguageCode), dialogs.T("slow_down")), nil)
	}
	return ok, nil
}

// input maps an update to what the dialogs understand.
func input(u *models.Update, from *models.User, chat int64) dialogs.Input {
	in := dialogs.Input{Channel: Channel, UpdateID: u.ID, UserID: from.ID, ChatID: chat, LangCode: from.LanguageCode}
	if cq := u.CallbackQuery; cq != nil {
		in.Data = cq.Data
		return in
	}
	m := u.Message
	in.Forwarded, in.MessageID = m.ForwardOrigin != nil, m.ID
	if m.Contact != nil {
		in.Contact = &dialogs.Contact{Phone: m.Contact.PhoneNumber, UserID: m.Contact.UserID}
		return in
	}
	in.Text = m.Text
	for _, e := range m.Entities {
		if e.Type == models.MessageEntityTypeBotCommand && e.Offset == 0 {
			cmd := strings.TrimPrefix(utf16Prefix(m.Text, e.Length), "/")
			cmd, _, _ = strings.Cut(cmd, "@") // "/balance@bonusbot" in groups
			in.Command, in.Text = strings.ToLower(cmd), ""
		}
	}
	return in
}

// utf16Prefix is the first n UTF-16 code units of s (Telegram's entity offsets count UTF-16).
func utf16Prefix(s string, n int) string {
	units := 0
	for i, r := range s {
		if units >= n {
			return s[:i]
		}
		units++
		if r > 0xFFFF {
			units++
		}
	}
	return s
}

func (b *Bot) answer(ctx context.Context, id, text string) {
	if _, err := b.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text}); err != nil {
		b.log.WarnContext(ctx, "answerCallbackQuery failed", "err", err)
	}
}
