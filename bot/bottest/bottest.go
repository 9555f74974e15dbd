// Package bottest is a fake Telegram Bot API server on httptest: it speaks the multipart form
// requests go-telegram/bot sends, queues updates for getUpdates, records what the bot sends, and
// can answer with 403 or 429 on demand. End-to-end tests and `bonusbench bot` run the real bot on it.
package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// Call is one request the bot made.
type Call struct {
	Method    string
	ChatID    int64
	MessageID int // the sent message's id, or the edited one
	Text      string
	Markup    string // reply_markup as JSON
	Data      map[string]string
	At        time.Time
	Thread    int             // message_thread_id: the forum topic it went to (0: none, or General)
	Source    *models.Message // copyMessage: the message copied, as it was pushed
}

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	Token string
	// Hook, if set, sees every call as it arrives (benchmarks use it instead of the record).
	Hook   func(Call)
	Record bool // keep calls for Next and Calls (default true via New)

	mu       sync.Mutex
	updates  []*models.Update
	nextID   int64
	msgID    int
	calls    map[int64][]Call // by chat; sendMessage and editMessageText only
	all      []Call
	changed  chan struct{} // closed and replaced on every change
	failures []failure
	polls    int
	forum    // topics, members and pushed messages (forum.go)

	hook *webhook // webhook delivery (webhook.go); nil: updates wait for getUpdates
}

type failure struct {
	method     string
	chat       int64
	code       int
	retryAfter int
	times      int
}

// New starts a fake server; it is closed when t ends.
func New(t testing.TB) *Server {
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake server outside a test (the benchmark); Close it when done.
func NewServer() *Server {
	s := &Server{Token: "123456:TEST", Record: true, calls: map[int64][]Call{}, changed: make(chan struct{}), nextID: 1}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.Token+"/")
	if !ok {
		reply(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	data := map[string]string{}
	if err := r.ParseMultipartForm(1 << 20); err == nil {
		for k, v := range r.MultipartForm.Value {
			data[k] = v[0]
		}
	}
	chat, _ := strconv.ParseInt(data["chat_id"], 10, 64)
	if f, ok := s.failure(method, chat); ok {
		body := map[string]any{"ok": false, "error_code": f.code, "description": http.StatusText(f.code)}
		if f.code == http.StatusForbidden {
			body["description"] = "Forbidden: bot was blocked by the user"
		}
		if f.retryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": f.retryAfter}
		}
		reply(w, f.code, body)
		return
	}
	if s.serveWebhook(w, method, data) || s.serveForum(w, method, chat, data) {
		return
	}
	switch method {
	case "getMe":
		ok200(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "bonusbot", "username": "bonusbot"})
	case "getUpdates":
		s.getUpdates(w, r, data)
	case "sendMessage", "editMessageText", "editMessageCaption":
		c := Call{Method: method, ChatID: chat, Text: cmpOr(data["text"], data["caption"]), Markup: data["reply_markup"], Data: data, At: time.Now()}
		c.Thread, _ = strconv.Atoi(data["message_thread_id"])
		s.mu.Lock()
		if method == "sendMessage" {
			s.msgID++
			c.MessageID = s.msgID
		} else {
			c.MessageID, _ = strconv.Atoi(data["message_id"])
		}
		s.record(c)
		s.mu.Unlock()
		ok200(w, map[string]any{"message_id": c.MessageID, "date": time.Now().Unix(), "text": c.Text,
			"chat": map[string]any{"id": chat, "type": chatType(chat)}})
	default: // answerCallbackQuery, setMyCommands, sendChatAction, …
		s.mu.Lock()
		s.record(Call{Method: method, ChatID: chat, Text: data["text"], Data: data, At: time.Now()})
		s.mu.Unlock()
		ok200(w, true)
	}
}

// record keeps c; s.mu is held.
func (s *Server) record(c Call) {
	if s.Hook != nil {
		s.Hook(c)
	}
	if !s.Record {
		return
	}
	s.all = append(s.all, c)
	if queued[c.Method] {
		s.calls[c.ChatID] = append(s.calls[c.ChatID], c)
	}
	s.notify()
}

func (s *Server) failure(method string, chat int64) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.failures {
		if f.method == method && (f.chat == 0 || f.chat == chat) && f.times > 0 {
			s.failures[i].times--
			return f, true
		}
	}
	return failure{}, false
}

// Fail makes the next times calls of method to chat (0: any chat) fail with code; retryAfter is
// sent with a 429.
func (s *Server) Fail(method string, chat int64, code, retryAfter, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{method, chat, code, retryAfter, times})
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, data map[string]string) {
	offset, _ := strconv.ParseInt(data["offset"], 10, 64)
	timeout, _ := strconv.Atoi(data["timeout"])
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		s.polls++
		i := 0
		for i < len(s.updates) && s.updates[i].ID < offset { // confirmed by the offset
			i++
		}
		s.updates = s.updates[i:]
		batch := s.updates[:min(len(s.updates), 100)]
		changed := s.changed
		s.mu.Unlock()
		if len(batch) > 0 {
			ok200(w, batch)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			ok200(w, []any{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func ok200(w http.ResponseWriter, result any) {
	reply(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func reply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// queued are the calls Next returns: what a chat's members would see.
var queued = map[string]bool{"sendMessage": true, "editMessageText": true, "editMessageCaption": true, "copyMessage": true,
	"createForumTopic": true, "closeForumTopic": true, "reopenForumTopic": true}

func chatType(chat int64) string {
	if chat < 0 {
		return "supergroup"
	}
	return "private"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Push queues an update for getUpdates and returns its id.
func (s *Server) Push(u *models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	u.ID = s.nextID
	s.nextID++
	s.updates = append(s.updates, u)
	s.notify()
	return u.ID
}

// User is a Telegram user in a private chat with the bot (chat id = user id).
type User struct {
	ID   int64
	Lang string
	s    *Server
}

// User returns a user with language code lang.
func (s *Server) User(id int64, lang string) *User { return &User{ID: id, Lang: lang, s: s} }

func (u *User) from() *models.User {
	return &models.User{ID: u.ID, FirstName: "Test", LanguageCode: u.Lang}
}

func (u *User) message(m *models.Message) {
	m.From, m.Chat, m.Date = u.from(), models.Chat{ID: u.ID, Type: models.ChatTypePrivate}, int(time.Now().Unix())
	u.s.keep(m)
	u.s.Push(&models.Update{Message: m})
}

// Send sends m (a photo, a sticker, a location…) from the user's private chat and returns its id.
func (u *User) Send(m *models.Message) int {
	u.message(m)
	return m.ID
}

// Say sends text; a leading "/word" is marked as a command, as Telegram does. It returns the message's id.
func (u *User) Say(text string) int {
	m := textMessage(text)
	u.message(m)
	return m.ID
}

// Edit edits the user's message id: m holds what it says now (text, or a caption with its media).
func (u *User) Edit(id int, m *models.Message) {
	now := int(time.Now().Unix())
	m.ID, m.From, m.Chat, m.Date, m.EditDate = id, u.from(), models.Chat{ID: u.ID, Type: models.ChatTypePrivate}, now, now
	u.s.mu.Lock()
	if u.s.Record && u.s.pushed != nil {
		u.s.pushed[msgKey{u.ID, id}] = m
	}
	u.s.mu.Unlock()
	u.s.Push(&models.Update{EditedMessage: m})
}

func textMessage(text string) *models.Message {
	m := &models.Message{Text: text}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m.Entities = []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: len(utf16.Encode([]rune(cmd)))}}
	}
	return m
}

// Share sends a contact card: owner is whose number it is (0: not a Telegram user).
func (u *User) Share(phone string, owner int64, forwarded bool) {
	m := &models.Message{Contact: &models.Contact{PhoneNumber: phone, FirstName: "Test", UserID: owner}}
	if forwarded {
		m.ForwardOrigin = &models.MessageOrigin{Type: models.MessageOriginTypeUser,
			MessageOriginUser: &models.MessageOriginUser{Type: models.MessageOriginTypeUser, SenderUser: models.User{ID: owner}}}
	}
	u.message(m)
}

// Press taps an inline button with data on message messageID.
func (u *User) Press(messageID int, data string) {
	u.s.Push(&models.Update{CallbackQuery: &models.CallbackQuery{ID: fmt.Sprint(time.Now().UnixNano()), From: *u.from(), Data: data,
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage,
			Message: &models.Message{ID: messageID, Date: int(time.Now().Unix()), Chat: models.Chat{ID: u.ID, Type: models.ChatTypePrivate}}}}})
}

// SayInGroup sends text to a group chat.
func (u *User) SayInGroup(group int64, text string) {
	u.s.Push(&models.Update{Message: &models.Message{Text: text, From: u.from(), Chat: models.Chat{ID: group, Type: models.ChatTypeGroup},
		Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Length: len(text)}}}})
}

// Next waits for the next message sent to (or edited in) chat after the ones already taken.
func (s *Server) Next(t testing.TB, chat int64) Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		s.mu.Lock()
		q := s.calls[chat]
		changed := s.changed
		if len(q) > 0 {
			s.calls[chat] = q[1:]
			s.mu.Unlock()
			return q[0]
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("bottest: no message to chat %d within 15 s", chat)
		}
	}
}

// Calls is every call of method so far.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.all {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Polls counts getUpdates rounds (a second poller would show up here).
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// Button finds the callback data of the first inline button of c whose data starts with prefix.
func (c Call) Button(prefix string) (string, bool) {
	var m models.InlineKeyboardMarkup
	if json.Unmarshal([]byte(c.Markup), &m) != nil {
		return "", false
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, prefix) {
				return b.CallbackData, true
			}
		}
	}
	return "", false
}
