package bottest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
)

// The forum side of the fake: a supergroup with topics (createForumTopic, closeForumTopic,
// reopenForumTopic), copyMessage of pushed messages, getChat, getChatMember, and agents who write in topics.
// A topic deleted with DeleteTopic answers "message thread not found", as Telegram does.

// GroupAnonymousBot is the user Telegram names as the sender of a message an anonymous admin sent
// on behalf of the group.
const GroupAnonymousBot = 1087968824

type msgKey struct {
	chat int64
	id   int
}

type forum struct {
	chats    map[int64]bool           // groups getChat knows → whether topics are on (SetGroup)
	topics   map[msgKey]bool          // (chat, admin user id as int) → may manage topics (SetAdmin)
	threads  map[int64]map[int]string // chat → thread → name
	deleted  map[msgKey]bool          // (chat, thread)
	members  map[msgKey]string        // (chat, user id as int) → status
	pushed   map[msgKey]*models.Message
	threadID int
}

// keep assigns m an id and remembers it, so copyMessage can find it.
func (s *Server) keep(m *models.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgID++
	m.ID = s.msgID
	if s.Record {
		if s.pushed == nil {
			s.pushed = map[msgKey]*models.Message{}
		}
		s.pushed[msgKey{m.Chat.ID, m.ID}] = m
	}
}

// serveForum answers the forum methods and refuses posts into deleted topics; it says whether it answered.
func (s *Server) serveForum(w http.ResponseWriter, method string, chat int64, data map[string]string) bool {
	thread, _ := strconv.Atoi(data["message_thread_id"])
	s.mu.Lock()
	gone := thread != 0 && s.deleted[msgKey{chat, thread}]
	s.mu.Unlock()
	switch method {
	case "sendMessage", "copyMessage", "closeForumTopic", "reopenForumTopic":
		if gone {
			reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message thread not found"})
			return true
		}
	}
	c := Call{Method: method, ChatID: chat, Data: data, At: time.Now(), Thread: thread}
	switch method {
	case "createForumTopic":
		s.mu.Lock()
		s.threadID++
		c.MessageID, c.Thread, c.Text = 1000+s.threadID, 1000+s.threadID, data["name"]
		if s.threads == nil {
			s.threads = map[int64]map[int]string{}
		}
		if s.threads[chat] == nil {
			s.threads[chat] = map[int]string{}
		}
		s.threads[chat][c.Thread] = c.Text
		s.record(c)
		s.mu.Unlock()
		ok200(w, map[string]any{"message_thread_id": c.Thread, "name": c.Text, "icon_color": 0})
	case "closeForumTopic", "reopenForumTopic":
		s.mu.Lock()
		s.record(c)
		s.mu.Unlock()
		ok200(w, true)
	case "copyMessage":
		from, _ := strconv.ParseInt(data["from_chat_id"], 10, 64)
		id, _ := strconv.Atoi(data["message_id"])
		s.mu.Lock()
		src := s.pushed[msgKey{from, id}]
		if src == nil {
			s.mu.Unlock()
			reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message to copy not found"})
			return true
		}
		s.msgID++
		c.MessageID, c.Source, c.Text = s.msgID, src, cmpOr(data["caption"], cmpOr(src.Text, src.Caption))
		s.record(c)
		s.mu.Unlock()
		ok200(w, map[string]any{"message_id": c.MessageID})
	case "getChatMember":
		user, _ := strconv.ParseInt(data["user_id"], 10, 64)
		s.mu.Lock()
		status := s.members[msgKey{chat, int(user)}]
		s.record(Call{Method: method, ChatID: chat, Data: data, At: c.At})
		manage := s.topics[msgKey{chat, int(user)}]
		s.mu.Unlock()
		if status == "" {
			status = "left"
		}
		ok200(w, map[string]any{"status": status, "user": map[string]any{"id": user, "is_bot": false, "first_name": "Test"},
			"can_manage_topics": manage})
	case "getChat":
		s.mu.Lock()
		forum, known := s.chats[chat]
		s.record(Call{Method: method, ChatID: chat, Data: data, At: c.At})
		s.mu.Unlock()
		if !known {
			reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"})
			return true
		}
		ok200(w, map[string]any{"id": chat, "type": chatType(chat), "title": "Support", "is_forum": forum})
	default:
		return false
	}
	return true
}

// DeleteTopic deletes a topic: posts into it fail with "message thread not found" from now on.
func (s *Server) DeleteTopic(chat int64, thread int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted == nil {
		s.deleted = map[msgKey]bool{}
	}
	s.deleted[msgKey{chat, thread}] = true
}

// SetMember sets user's status in chat ("member", "administrator", "creator", "left", "kicked").
func (s *Server) SetMember(chat, user int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.members == nil {
		s.members = map[msgKey]string{}
	}
	s.members[msgKey{chat, int(user)}] = status
}

// BotID is the bot's user id, as getMe gives it.
const BotID = 1

// SetGroup makes chat a supergroup getChat knows, with topics on (a forum) or off.
func (s *Server) SetGroup(chat int64, forum bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chats == nil {
		s.chats = map[int64]bool{}
	}
	s.chats[chat] = forum
}

// SetAdmin makes user an administrator of chat, allowed to manage topics or not.
func (s *Server) SetAdmin(chat, user int64, manageTopics bool) {
	s.SetMember(chat, user, "administrator")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.topics == nil {
		s.topics = map[msgKey]bool{}
	}
	s.topics[msgKey{chat, int(user)}] = manageTopics
}

// Topics is the name of every topic created in chat, by thread id.
func (s *Server) Topics(chat int64) map[int]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]string{}
	for k, v := range s.threads[chat] {
		out[k] = v
	}
	return out
}

// Agent is a member of a forum supergroup writing in it.
type Agent struct {
	*User
	Group     int64
	FirstName string
}

// Agent returns user id writing in group under firstName (the bot may show it to subscribers).
func (s *Server) Agent(id, group int64, firstName string) *Agent {
	return &Agent{User: s.User(id, "ru"), Group: group, FirstName: firstName}
}

func (a *Agent) post(thread int, m *models.Message, edited bool) int {
	m.From = &models.User{ID: a.ID, FirstName: a.FirstName, LanguageCode: a.Lang}
	return a.s.postInGroup(a.Group, thread, m, edited)
}

func (s *Server) postInGroup(group int64, thread int, m *models.Message, edited bool) int {
	m.Chat, m.Date = models.Chat{ID: group, Type: models.ChatTypeSupergroup, IsForum: true}, int(time.Now().Unix())
	if thread != 0 {
		m.MessageThreadID, m.IsTopicMessage = thread, true
	}
	if edited {
		m.EditDate = int(time.Now().Unix())
		s.mu.Lock()
		if s.Record {
			s.pushed[msgKey{group, m.ID}] = m
		}
		s.mu.Unlock()
		s.Push(&models.Update{EditedMessage: m})
		return m.ID
	}
	s.keep(m)
	s.Push(&models.Update{Message: m})
	return m.ID
}

// SayInTopic writes text in a topic (0: General) and returns the message's id.
func (a *Agent) SayInTopic(thread int, text string) int {
	return a.post(thread, textMessage(text), false)
}

// ReplyInTopic writes text in a topic as a reply to message to.
func (a *Agent) ReplyInTopic(thread, to int, text string) int {
	m := textMessage(text)
	m.ReplyToMessage = &models.Message{ID: to, Chat: models.Chat{ID: a.Group, Type: models.ChatTypeSupergroup}, Date: int(time.Now().Unix())}
	return a.post(thread, m, false)
}

// SendInTopic posts m (a photo…) in a topic.
func (a *Agent) SendInTopic(thread int, m *models.Message) int { return a.post(thread, m, false) }

// EditInTopic edits the agent's message id to text.
func (a *Agent) EditInTopic(thread, id int, text string) {
	m := textMessage(text)
	m.ID = id
	a.post(thread, m, true)
}

// Anonymous writes text in a topic as an anonymous admin: on behalf of the group, no person named.
func (s *Server) Anonymous(group int64, thread int, text string) int {
	m := textMessage(text)
	m.From = &models.User{ID: GroupAnonymousBot, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}
	m.SenderChat = &models.Chat{ID: group, Type: models.ChatTypeSupergroup, Title: "Support"}
	return s.postInGroup(group, thread, m, false)
}

// ForwardFrom is the forward_origin of a message forwarded from user (hidden: the user hides their
// account in forwards, and Telegram reveals only a name).
func ForwardFrom(user int64, hidden bool) *models.MessageOrigin {
	if hidden {
		return &models.MessageOrigin{Type: models.MessageOriginTypeHiddenUser, MessageOriginHiddenUser: &models.MessageOriginHiddenUser{
			Type: models.MessageOriginTypeHiddenUser, SenderUserName: "Someone"}}
	}
	return &models.MessageOrigin{Type: models.MessageOriginTypeUser, MessageOriginUser: &models.MessageOriginUser{
		Type: models.MessageOriginTypeUser, SenderUser: models.User{ID: user, FirstName: "Test"}}}
}

// ForwardInTopic forwards a message with origin into a topic of the agent's group (0: General).
func (a *Agent) ForwardInTopic(thread int, origin *models.MessageOrigin, text string) int {
	return a.post(thread, &models.Message{Text: text, ForwardOrigin: origin}, false)
}

// Forward forwards a message with origin to the bot's private chat.
func (u *User) Forward(origin *models.MessageOrigin, text string) int {
	return u.Send(&models.Message{Text: text, ForwardOrigin: origin})
}

func (a *Agent) String() string { return fmt.Sprintf("agent %d in %d", a.ID, a.Group) }
