package support

import (
	"context"
	"errors"
	"strconv"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Agent commands act on the account of the topic they are written in; every answer goes back into
// that topic. What changes an account (/adjust, /block, /unblock) is recorded with the agent's id.

const (
	historyDefault = 10
	historyMax     = 50
)

func (d *Desk) command(ctx context.Context, account int64, thread int, from *models.User, cmd, args string) error {
	say := func(lines ...dialogs.Text) { d.note(ctx, account, thread, lines...) }
	var err error
	switch cmd {
	case "card":
		var c ledger.Card
		if c, err = d.store.AccountCard(ctx, account); err == nil {
			say(cardLines(c)...)
		}
	case "balance":
		var b ledger.Balance
		if b, err = d.store.Balance(ctx, account); err == nil {
			say(balanceLines(b)...)
		}
	case "history":
		n, perr := strconv.Atoi(args)
		if perr != nil || n <= 0 {
			n = historyDefault
		}
		var ops []ledger.Operation
		if ops, err = d.store.History(ctx, account, 0, min(n, historyMax)); err == nil {
			if len(ops) == 0 {
				say(dialogs.T("agent.card.no_ops"))
			} else {
				say(append([]dialogs.Text{dialogs.T("agent.card.ops")}, opLines(ops)...)...)
			}
		}
	case "forecast":
		var burns []ledger.Burn
		if burns, err = d.store.Forecast(ctx, account, dialogs.ForecastDays); err == nil {
			say(forecastLines(burns)...)
		}
	case "adjust":
		err = d.adjust(ctx, account, thread, from.ID, args)
	case "block":
		err = d.block(ctx, account, thread, from.ID, args)
	case "unblock":
		if err = d.store.SupportBlock(ctx, ledger.BlockRequest{AccountID: account, AgentID: from.ID}); err == nil {
			d.log.InfoContext(ctx, "support: account unblocked", "account_id", account, "agent_id", from.ID)
			say(dialogs.T("agent.unblock.done"))
		}
	case "close":
		err = d.close(ctx, account, thread, from.ID)
	default:
		say(dialogs.T("agent.unknown_command"))
	}
	if err != nil {
		d.log.ErrorContext(ctx, "support: agent command failed", "command", cmd, "account_id", account, "agent_id", from.ID, "err", err)
		say(dialogs.T("agent.error"))
	}
	return nil // failures are logged and told in the topic, here
}

func forecastLines(burns []ledger.Burn) []dialogs.Text {
	if len(burns) == 0 {
		return []dialogs.Text{dialogs.T("forecast.none", "Days", int64(dialogs.ForecastDays))}
	}
	lines := []dialogs.Text{dialogs.T("forecast.title", "Days", int64(dialogs.ForecastDays))}
	var total int64
	for _, b := range burns {
		total += b.Points
		lines = append(lines, dialogs.T("agent.history.line", "At", b.On, "Points", -b.Points, "Kind", dialogs.T("history.kind.expiry")))
	}
	return append(lines, dialogs.T("forecast.total", "Points", total))
}

// adjust is "/adjust +N reason" or "/adjust -N reason": refused with the reason beyond the limit or
// below zero, and nothing changes; done, the subscriber is told in their language.
func (d *Desk) adjust(ctx context.Context, account int64, thread int, agent int64, args string) error {
	amount, reason, _ := strings.Cut(args, " ")
	points, err := strconv.ParseInt(amount, 10, 64)
	if err != nil || (amount[0] != '+' && amount[0] != '-') || strings.TrimSpace(reason) == "" {
		d.note(ctx, account, thread, dialogs.T("agent.adjust.usage"))
		return nil
	}
	a, err := d.store.Adjust(ctx, ledger.AdjustRequest{AccountID: account, Points: points, AgentID: agent, Reason: reason})
	switch {
	case errors.Is(err, ledger.ErrAdjustAmount):
		d.note(ctx, account, thread, dialogs.T("agent.adjust.limit", "Max", d.maxAdjust()))
		return nil
	case errors.Is(err, ledger.ErrNoReason):
		d.note(ctx, account, thread, dialogs.T("agent.adjust.usage"))
		return nil
	case errors.Is(err, ledger.ErrInsufficientPoints):
		b, err := d.store.Balance(ctx, account)
		if err != nil {
			return err
		}
		d.note(ctx, account, thread, dialogs.T("agent.adjust.below_zero", "Have", b.Points, "Points", -points))
		return nil
	case err != nil:
		return err
	}
	d.log.InfoContext(ctx, "support: adjustment", "account_id", account, "agent_id", agent, "points", points, "tx_id", a.TxID)
	d.note(ctx, account, thread, dialogs.T("agent.adjust.done", "Points", points, "Tx", a.TxID,
		"Reason", strings.TrimSpace(reason), "Balance", a.Balance))
	d.touch(ctx, account)
	d.tellAdjusted(ctx, a)
	return nil
}

// maxAdjust is the limit to quote; the ledger holds the real one and this is only its echo.
func (d *Desk) maxAdjust() int64 {
	if d.opts.MaxAdjust > 0 {
		return d.opts.MaxAdjust
	}
	return ledger.DefaultMaxAdjust
}

// tellAdjusted tells the account's Telegram chats of an adjustment, each in its language. A chat
// that cannot be reached is logged; the adjustment stands.
func (d *Desk) tellAdjusted(ctx context.Context, a ledger.Adjustment) {
	links, err := d.store.LinksForAccount(ctx, a.AccountID)
	if err != nil {
		d.log.ErrorContext(ctx, "support: adjustment notice", "account_id", a.AccountID, "err", err)
		return
	}
	t := dialogs.T("notice.adjust.debit", "Points", -a.Points, "Balance", a.Balance)
	if a.Points > 0 {
		t = dialogs.T("notice.adjust.credit", "Points", a.Points, "Balance", a.Balance, "On", a.Lots[0].ExpiresOn)
	}
	for _, l := range links {
		if l.Channel != Channel || !l.Active {
			continue
		}
		if err := d.send(ctx, l.ChatID, d.texts.Render(l.Language, t)); err != nil {
			d.log.WarnContext(ctx, "support: adjustment notice not delivered", "account_id", a.AccountID, "chat_id", l.ChatID, "err", err)
		}
	}
}

// send writes text to a subscriber's chat.
func (d *Desk) send(ctx context.Context, chat int64, text string) error {
	return d.tg.Call(ctx, chat, func(ctx context.Context, api *tg.Bot) error {
		_, err := api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chat, Text: text})
		return err
	})
}

func (d *Desk) block(ctx context.Context, account int64, thread int, agent int64, reason string) error {
	err := d.store.SupportBlock(ctx, ledger.BlockRequest{AccountID: account, AgentID: agent, Blocked: true, Reason: reason})
	if errors.Is(err, ledger.ErrNoReason) {
		d.note(ctx, account, thread, dialogs.T("agent.block.usage"))
		return nil
	}
	if err != nil {
		return err
	}
	d.log.InfoContext(ctx, "support: account blocked", "account_id", account, "agent_id", agent)
	d.note(ctx, account, thread, dialogs.T("agent.block.done", "Reason", reason))
	return nil
}

// close ends the conversation: the subscriber is told, the topic closes; their next message reopens it.
func (d *Desk) close(ctx context.Context, account int64, thread int, agent int64) error {
	conv, ok, err := d.store.CloseConversation(ctx, d.opts.ChatID, account, agent)
	if err != nil {
		return err
	}
	if !ok {
		d.note(ctx, account, thread, dialogs.T("agent.close.none"))
		return nil
	}
	d.log.InfoContext(ctx, "support: conversation closed", "account_id", account, "agent_id", agent, "conversation_id", conv.ID)
	chat := conv.UserChatID // the latest writer; an agent-reopened conversation has none yet
	if chat == 0 {
		last, _, err := d.store.LastSubscriberMessage(ctx, d.opts.ChatID, account)
		if err != nil {
			return err
		}
		chat = last.UserChatID // 0 when the account never wrote
	}
	if chat != 0 {
		lang := "ru"
		if l, err := d.store.LinkedAccount(ctx, Channel, chat); err == nil {
			lang = l.Language
		}
		if err := d.send(ctx, chat, d.texts.Render(lang, dialogs.T("support.closed"))); err != nil {
			d.log.WarnContext(ctx, "support: close notice not delivered", "account_id", account, "err", err)
		}
	}
	d.closeTopic(ctx, account, thread, dialogs.T("agent.close.done"))
	return nil
}

// closeTopic queues a last note and the closing of the topic.
func (d *Desk) closeTopic(ctx context.Context, account int64, thread int, note dialogs.Text) {
	n := notePost{Account: account, Thread: thread, Text: d.texts.Render(agentLang, note)}
	if err := d.queuePost(ctx, ledger.SupportPostClose, n); err != nil {
		d.log.ErrorContext(ctx, "support: topic close not queued", "account_id", account, "err", err)
	}
}

// closeIn posts a queued close: the note, then the topic closes. A topic deleted meanwhile has
// nothing left to close.
func (d *Desk) closeIn(ctx context.Context, n notePost) error {
	err := d.sayText(ctx, n.Thread, 0, n.Text)
	if err == nil {
		err = d.post(ctx, func(ctx context.Context, api *tg.Bot) error {
			_, err := api.CloseForumTopic(ctx, &tg.CloseForumTopicParams{ChatID: d.opts.ChatID, MessageThreadID: n.Thread})
			return err
		})
	}
	if isThreadGone(err) {
		d.log.InfoContext(ctx, "support: topic to close is gone", "account_id", n.Account, "thread", n.Thread)
		return nil
	}
	return err
}

// touch counts an agent's command as activity, so a conversation being worked on does not go idle.
func (d *Desk) touch(ctx context.Context, account int64) {
	c, ok, err := d.store.OpenConversationOf(ctx, d.opts.ChatID, account)
	if err == nil && ok {
		err = d.store.TouchConversation(ctx, c.ID)
	}
	if err != nil {
		d.log.WarnContext(ctx, "support: touch conversation", "account_id", account, "err", err)
	}
}
