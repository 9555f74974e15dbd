package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// render turns a dialog reply into Bot API calls: one message per Output; an Output marked Edit
// replaces the message whose button was pressed (catalogue pages), the rest are new messages.
func (b *Bot) render(ctx context.Context, chat int64, editID int, r dialogs.Reply) error {
	for _, o := range r.Outputs {
		if o.Relay != nil {
			if err := b.relay(ctx, chat, *o.Relay); err != nil {
				return err
			}
		}
		if len(o.Lines) == 0 {
			continue
		}
		text := b.texts.Say(r.Lang, o.Lines)
		markup := b.markup(r.Lang, o)
		if o.Edit && editID != 0 {
			inline, _ := markup.(*models.InlineKeyboardMarkup)
			err := b.send(ctx, chat, func(ctx context.Context) error {
				p := &tg.EditMessageTextParams{ChatID: chat, MessageID: editID, Text: text}
				if inline != nil {
					p.ReplyMarkup = inline
				}
				_, err := b.api.EditMessageText(ctx, p)
				return err
			})
			if err == nil || strings.Contains(err.Error(), "message is not modified") {
				continue
			}
			b.log.WarnContext(ctx, "edit failed; sending anew", "chat_id", chat, "err", err)
		}
		b.sendText(ctx, chat, text, markup)
	}
	return nil
}

// sendText sends a message; a failure is logged with the chat and otherwise ignored, since the
// user cannot be told about a message that cannot reach them.
func (b *Bot) sendText(ctx context.Context, chat int64, text string, markup models.ReplyMarkup) {
	err := b.send(ctx, chat, func(ctx context.Context) error {
		_, err := b.api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chat, Text: text, ReplyMarkup: markup})
		return err
	})
	if err != nil {
		b.log.WarnContext(ctx, "send failed", "chat_id", chat, "err", err)
	}
}

func (b *Bot) markup(lang string, o dialogs.Output) models.ReplyMarkup {
	if len(o.Buttons) > 0 {
		rows := make([][]models.InlineKeyboardButton, len(o.Buttons))
		for i, row := range o.Buttons {
			for _, btn := range row {
				rows[i] = append(rows[i], models.InlineKeyboardButton{Text: b.texts.Render(lang, btn.Label), CallbackData: btn.Data})
			}
		}
		return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
	}
	switch o.Keyboard {
	case dialogs.MenuKeyboard:
		rows := make([][]models.KeyboardButton, len(dialogs.MenuLabels))
		for i, row := range dialogs.MenuLabels {
			for _, id := range row {
				rows[i] = append(rows[i], models.KeyboardButton{Text: b.texts.Render(lang, dialogs.T(id))})
			}
		}
		return &models.ReplyKeyboardMarkup{Keyboard: rows, ResizeKeyboard: true, IsPersistent: true}
	case dialogs.ContactKeyboard:
		return &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{
			Text: b.texts.Render(lang, dialogs.T("keyboard.contact")), RequestContact: true}}}, ResizeKeyboard: true, OneTimeKeyboard: true}
	case dialogs.RemoveKeyboard:
		return &models.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	return nil
}

// maxRetries bounds retries of a 429.
const maxRetries = 3

// send makes one outbound call within the rate limits, retries it after a 429's retry_after, and
// marks the chat inactive on a 403 (the user blocked the bot).
func (b *Bot) send(ctx context.Context, chat int64, call func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		if err := b.out.wait(ctx, chat); err != nil {
			return err
		}
		err := call(ctx)
		var tooMany *tg.TooManyRequestsError // errors.As: the library's IsTooManyRequestsError misses wrapped errors
		switch {
		case err == nil:
			return nil
		case errors.As(err, &tooMany) && attempt < maxRetries:
			b.log.WarnContext(ctx, "telegram 429", "chat_id", chat, "retry_after", tooMany.RetryAfter)
			b.out.pause(ctx, time.Duration(max(tooMany.RetryAfter, 1))*time.Second)
			continue
		case errors.Is(err, tg.ErrorForbidden):
			b.deactivate(ctx, chat)
		}
		return err
	}
}

// deactivate records that the user blocked the bot, so notices stop going to this chat; the
// dialogs engine reactivates the link when the user writes again.
func (b *Bot) deactivate(ctx context.Context, chat int64) {
	if err := b.links.SetActive(ctx, Channel, chat, false); err != nil && !errors.Is(err, ledger.ErrNotLinked) {
		b.log.WarnContext(ctx, "marking chat inactive", "chat_id", chat, "err", err)
		return
	}
	b.log.InfoContext(ctx, "chat blocked the bot; marked inactive", "chat_id", chat)
}

// throttle keeps one replica's outbound messages within Telegram's limits while Redis, which keeps
// them for all replicas (outbound), is unavailable: about 30 a second overall and about one a second
// per chat (a small burst allowed, so a two-message answer is not delayed).
type throttle struct {
	mu     sync.Mutex
	global bucket
	chats  map[int64]*bucket
	rate   float64
	burst  float64
	until  time.Time // a 429 pauses everything until then
}

type bucket struct {
	tokens float64
	last   time.Time
}

// take refills b at rate up to burst and takes a token; otherwise it says how long until one.
func (b *bucket) take(now time.Time, rate, burst float64) (time.Duration, bool) {
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

func newThrottle(perSecond, chatBurst int) *throttle {
	r := float64(perSecond)
	return &throttle{global: bucket{tokens: r, last: time.Now()}, chats: map[int64]*bucket{}, rate: r, burst: float64(chatBurst)}
}

func (t *throttle) wait(ctx context.Context, chat int64) error {
	for {
		d := t.reserve(chat)
		if d == 0 {
			return nil
		}
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

func (t *throttle) reserve(chat int64) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if now.Before(t.until) {
		return t.until.Sub(now)
	}
	c, ok := t.chats[chat]
	if !ok {
		if len(t.chats) > 10_000 { // forget chats whose bucket is full again
			for id, b := range t.chats {
				if b.tokens+now.Sub(b.last).Seconds() >= t.burst {
					delete(t.chats, id)
				}
			}
		}
		c = &bucket{tokens: t.burst, last: now}
		t.chats[chat] = c
	}
	gw, gok := t.global.take(now, t.rate, t.rate)
	cw, cok := c.take(now, 1, t.burst)
	if gok && cok {
		t.global.tokens--
		c.tokens--
		return 0
	}
	return max(gw, cw)
}

func (t *throttle) pause(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.until = time.Now().Add(d)
}
