package support

import (
	"context"
	"fmt"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// CheckGroup asks Telegram once, at start-up, whether group chatID can carry the relay: a supergroup
// with topics on (a forum) where the bot is an administrator allowed to manage topics. The error
// says what is wrong, in the words of the group's settings, so whoever set SUPPORT_CHAT_ID can fix it;
// without the check every relay would fail later, one subscriber at a time.
func CheckGroup(ctx context.Context, api *tg.Bot, chatID int64) error {
	chat, err := api.GetChat(ctx, &tg.GetChatParams{ChatID: chatID})
	if err != nil {
		return fmt.Errorf("support: SUPPORT_CHAT_ID %d: the bot cannot see the chat (is it a member, is the id right?): %w", chatID, err)
	}
	if chat.Type != models.ChatTypeSupergroup {
		return fmt.Errorf("support: SUPPORT_CHAT_ID %d is a %s, not a supergroup", chatID, chat.Type)
	}
	if !chat.IsForum {
		return fmt.Errorf("support: SUPPORT_CHAT_ID %d (%q) has topics off: turn Topics on in the group's settings", chatID, chat.Title)
	}
	me, err := api.GetMe(ctx)
	if err != nil {
		return fmt.Errorf("support: getMe: %w", err)
	}
	m, err := api.GetChatMember(ctx, &tg.GetChatMemberParams{ChatID: chatID, UserID: me.ID})
	if err != nil {
		return fmt.Errorf("support: SUPPORT_CHAT_ID %d: the bot's membership: %w", chatID, err)
	}
	switch {
	case m.Type == models.ChatMemberTypeOwner:
		return nil
	case m.Type != models.ChatMemberTypeAdministrator:
		return fmt.Errorf("support: SUPPORT_CHAT_ID %d (%q): the bot is not an administrator (it is %q): make it one, allowed to manage topics",
			chatID, chat.Title, m.Type)
	case m.Administrator == nil || !m.Administrator.CanManageTopics:
		return fmt.Errorf("support: SUPPORT_CHAT_ID %d (%q): the bot is an administrator without the right to manage topics: give it that right",
			chatID, chat.Title)
	}
	return nil
}

// CheckGroupWith is CheckGroup on a client of its own for token at serverURL (empty: Telegram's),
// for start-up, before the bot exists.
func CheckGroupWith(ctx context.Context, token, serverURL string, chatID int64) error {
	opts := []tg.Option{tg.WithSkipGetMe()}
	if serverURL != "" {
		opts = append(opts, tg.WithServerURL(serverURL))
	}
	api, err := tg.New(token, opts...)
	if err != nil {
		return fmt.Errorf("support: check the group: %w", err)
	}
	return CheckGroup(ctx, api, chatID)
}
