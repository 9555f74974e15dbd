// Package support is the relay between subscribers and human agents. Agents work in a Telegram
// forum supergroup (SUPPORT_CHAT_ID) where the bot is an admin: each account has its own topic, the
// subscriber's messages are copied into it (copyMessage, so no "forwarded from" leaks), and what an
// agent writes there is copied back. Agents act on the topic's account with commands (/balance,
// /adjust…). The records that let a restart or a second replica carry on (topics, conversations,
// the message map, who did what) live in the ledger; posts into the group go through the ledger's
// outbox, posted in order by one replica at a time under the group's rate limit (kept in Redis);
// idle conversations close in a River job.
package support

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Channel is Telegram's name in channel links (bot.Channel; bot/support must not import bot).
const Channel = "telegram"

// Store is what the relay needs of the ledger (*ledger.Store).
type Store interface {
	AccountCard(ctx context.Context, accountID int64) (ledger.Card, error)
	Balance(ctx context.Context, accountID int64) (ledger.Balance, error)
	History(ctx context.Context, accountID, beforeTx int64, limit int) ([]ledger.Operation, error)
	Forecast(ctx context.Context, accountID int64, days int) ([]ledger.Burn, error)
	Adjust(ctx context.Context, req ledger.AdjustRequest) (ledger.Adjustment, error)
	SupportBlock(ctx context.Context, req ledger.BlockRequest) error
	LinkedAccount(ctx context.Context, channel string, userID int64) (ledger.Link, error)
	LinksForAccount(ctx context.Context, accountID int64) ([]ledger.Link, error)

	Topic(ctx context.Context, chatID, accountID int64) (ledger.SupportTopic, bool, error)
	SetTopic(ctx context.Context, t ledger.SupportTopic) error
	SetTopicClosed(ctx context.Context, chatID, accountID int64, closed bool) error
	TopicAccount(ctx context.Context, chatID int64, threadID int) (int64, bool, error)
	OpenConversation(ctx context.Context, chatID, accountID, userChatID int64) (ledger.Conversation, bool, error)
	OpenConversationOf(ctx context.Context, chatID, accountID int64) (ledger.Conversation, bool, error)
	CloseConversation(ctx context.Context, chatID, accountID, agentID int64) (ledger.Conversation, bool, error)
	CloseIdleConversations(ctx context.Context, idle time.Duration, limit int) ([]ledger.Conversation, error)
	RecordSupportMessage(ctx context.Context, m ledger.SupportMessage) error
	TouchConversation(ctx context.Context, conversationID int64) error
	SupportMessageInTopic(ctx context.Context, chatID int64, topicMsgID int) (ledger.SupportMessage, bool, error)
	LastSubscriberMessage(ctx context.Context, chatID, accountID int64) (ledger.SupportMessage, bool, error)
	SupportMessageInChat(ctx context.Context, userChatID int64, userMsgID int) (ledger.SupportMessage, bool, error)

	QueueSupportPost(ctx context.Context, chatID int64, kind string, payload []byte) (int64, error)
	SupportOutbox(chatID int64) *ledger.SupportOutbox
}

// Telegram is the bot's outbound path (*bot.Bot).
type Telegram interface {
	// Call posts into chat within the bot's rate limits, retrying a 429.
	Call(ctx context.Context, chat int64, call func(ctx context.Context, api *tg.Bot) error) error
	// API is for calls that post nothing (getChatMember).
	API() *tg.Bot
	// ReserveGroupPost takes one of the n posts into chat allowed in any period per, counted for
	// every replica, and returns 0; or it says how long until one frees.
	ReserveGroupPost(ctx context.Context, chat int64, n int, per time.Duration) (time.Duration, error)
}

// Texts words messages (*locales.Catalog).
type Texts interface {
	Render(lang string, t dialogs.Text) string
	Say(lang string, lines []dialogs.Text) string
}

// Options configure the relay.
type Options struct {
	ChatID        int64         // the forum supergroup (SUPPORT_CHAT_ID)
	ShowAgentName bool          // prefix answers with the agent's first name (SUPPORT_SHOW_AGENT_NAME)
	Idle          time.Duration // a conversation without messages this long closes itself (SUPPORT_IDLE, 24 h)
	GroupRate     int           // posts into the group in any GroupPer: Telegram allows a bot about 20 a minute (20)
	GroupPer      time.Duration // the group's rate window (1 min)
	MemberTTL     time.Duration // how long a getChatMember answer is trusted (1 min)
	DrainTimeout  time.Duration // on shutdown, how long the post in hand may still take (10 s)
	LockPoll      time.Duration // how often a replica without the outbox's lock checks whether its holder is gone (1 s)
	MaxAdjust     int64         // the ledger's per-adjustment limit, to quote in refusals (SUPPORT_MAX_ADJUST)
	IdleEvery     time.Duration // how often the idle sweep runs (1 min)
}

func (o *Options) defaults() {
	if o.Idle <= 0 {
		o.Idle = 24 * time.Hour
	}
	if o.GroupRate <= 0 {
		o.GroupRate = 20
	}
	if o.MemberTTL <= 0 {
		o.MemberTTL = time.Minute
	}
	if o.GroupPer <= 0 {
		o.GroupPer = time.Minute
	}
	if o.LockPoll <= 0 {
		o.LockPoll = time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.IdleEvery <= 0 {
		o.IdleEvery = time.Minute
	}
}

// agentLang is the language of everything said in the support group: the support team works in Russian.
const agentLang = "ru"

// Desk is the support relay. Attach the bot before Run and before River starts working its jobs.
type Desk struct {
	store   Store
	texts   Texts
	log     *slog.Logger
	opts    Options
	tg      Telegram
	local   *window // the group's window while Redis is unavailable
	members *members
}

// New returns a Desk for the group opts.ChatID.
func New(store Store, texts Texts, log *slog.Logger, opts Options) *Desk {
	opts.defaults()
	return &Desk{store: store, texts: texts, log: log, opts: opts,
		local:   newWindow(opts.GroupRate, opts.GroupPer, time.Now),
		members: &members{ttl: opts.MemberTTL, known: map[int64]memberEntry{}}}
}

// Attach gives the Desk the bot it posts through. Call it once, before Run and before River starts.
func (d *Desk) Attach(t Telegram) { d.tg = t }

// isThreadGone says Telegram refused a post because its topic no longer exists (an admin deleted it).
func isThreadGone(err error) bool {
	if !errors.Is(err, tg.ErrorBadRequest) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "message thread not found") || strings.Contains(msg, "topic_id_invalid") ||
		strings.Contains(msg, "topic_deleted")
}

// members caches getChatMember answers briefly: every agent message needs one. A replica's cache may
// trust a removed agent for up to MemberTTL; that is the price of not asking Telegram every time.
type members struct {
	mu    sync.Mutex
	ttl   time.Duration
	known map[int64]memberEntry
}

type memberEntry struct {
	member bool
	at     time.Time
}

// isMember says whether user belongs to the support group.
func (d *Desk) isMember(ctx context.Context, user int64) (bool, error) {
	m := d.members
	now := time.Now()
	m.mu.Lock()
	e, ok := m.known[user]
	m.mu.Unlock()
	if ok && now.Sub(e.at) < m.ttl {
		return e.member, nil
	}
	cm, err := d.tg.API().GetChatMember(ctx, &tg.GetChatMemberParams{ChatID: d.opts.ChatID, UserID: user})
	if err != nil {
		return false, err
	}
	member := false
	switch cm.Type {
	case "creator", "administrator", "member":
		member = true
	case "restricted":
		member = cm.Restricted != nil && cm.Restricted.IsMember
	}
	m.mu.Lock()
	if len(m.known) > 10_000 {
		clear(m.known)
	}
	m.known[user] = memberEntry{member: member, at: now}
	m.mu.Unlock()
	return member, nil
}
