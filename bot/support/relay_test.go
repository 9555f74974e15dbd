package support_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"bonusbot/bot/bottest"
	"bonusbot/bot/support"
	"bonusbot/ledger"
)

// TestRoundTrip: two subscribers and two agents; each subscriber's messages reach their own topic,
// each answer reaches its subscriber, edits follow, notes stay in the topic.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	anna, boris := e.subscriber(501, "ru", "+79161234567", 100), e.subscriber(502, "en", "+79161234501", 10)
	a1, a2 := e.agent(901, "Ирина"), e.agent(902, "Олег")

	anna.Say("/support")
	e.expect(anna.ID, "sendMessage", "Вы на связи с поддержкой")
	q := anna.Say("сколько у меня баллов?") // in support mode even this goes to the agents
	annaTopic := e.opened("+79161234567")
	e.copied(anna, q, annaTopic)

	boris.Say("💬 Support")
	e.expect(boris.ID, "sendMessage", "You are talking to support now")
	bq := boris.Say("where are my points?")
	borisTopic := e.opened("+79161234501")
	e.copied(boris, bq, borisTopic)
	if annaTopic == borisTopic {
		t.Fatal("two accounts share a topic")
	}

	answer := a1.SayInTopic(annaTopic, "Проверим и вернёмся.")
	c := e.expect(anna.ID, "copyMessage", "Проверим и вернёмся.")
	if c.Source.ID != answer || c.Source.Chat.ID != group {
		t.Errorf("anna got a copy of %+v, want the agent's message %d", c.Source, answer)
	}
	a2.SayInTopic(borisTopic, "Checking.")
	e.expect(boris.ID, "copyMessage", "Checking.")

	a1.EditInTopic(annaTopic, answer, "Проверили: баллы пришли.")
	if ed := e.expect(anna.ID, "editMessageText", "Проверили: баллы пришли."); ed.MessageID != c.MessageID {
		t.Errorf("the edit changed message %d, want the copy %d", ed.MessageID, c.MessageID)
	}
	a1.SayInTopic(annaTopic, "!это заметка для своих")
	a1.SayInTopic(annaTopic, "Ещё что-нибудь?")
	e.expect(anna.ID, "copyMessage", "Ещё что-нибудь?") // not the note

	// Anna answers; her message goes to her topic only.
	r := anna.Say("Нет, спасибо")
	e.copied(anna, r, annaTopic)
	// Another agent's reply to her message reaches her as a reply to that message.
	a2.ReplyInTopic(annaTopic, e.lastCopy(t, anna, r), "Хорошего дня!")
	got := e.expect(anna.ID, "copyMessage", "Хорошего дня!")
	if !strings.Contains(got.Data["reply_parameters"], `"message_id":`+itoa(r)) {
		t.Errorf("reply_parameters = %s, want a reply to anna's message %d", got.Data["reply_parameters"], r)
	}

	// Menu labels and commands stay the bot's in support mode.
	anna.Say("💰 Баланс")
	e.expect(anna.ID, "sendMessage", "У вас 100\u00a0баллов.")
	anna.Say("/cancel")
	e.expect(anna.ID, "sendMessage", "Разговор с поддержкой завершён")
	anna.Say("баланс")
	e.expect(anna.ID, "sendMessage", "У вас 100\u00a0баллов.")
	e.waitCount(7, `SELECT count(*) FROM support_messages`) // 3 in, 4 out
}

// TestAgentNameShown: with SUPPORT_SHOW_AGENT_NAME an answer starts with the agent's first name.
func TestAgentNameShown(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{ShowAgentName: true})
	u := e.subscriber(511, "ru", "+79161234567", 100)
	a := e.agent(911, "Ирина")
	u.Say("/support")
	e.expect(u.ID, "sendMessage", "")
	m := u.Say("Здравствуйте")
	thread := e.opened("+79161234567")
	e.copied(u, m, thread)
	id := a.SayInTopic(thread, "Добрый день!")
	c := e.expect(u.ID, "sendMessage", "Оператор Ирина:\nДобрый день!")
	if c.Data["reply_parameters"] != "" {
		t.Errorf("a plain answer replies to %s, want no reply", c.Data["reply_parameters"])
	}
	a.EditInTopic(thread, id, "Добрый вечер!")
	e.expect(u.ID, "editMessageText", "Оператор Ирина:\nДобрый вечер!")
	a.ReplyInTopic(thread, e.lastCopy(t, u, m), "Это про ваш вопрос.")
	c = e.expect(u.ID, "sendMessage", "Оператор Ирина:\nЭто про ваш вопрос.")
	if !strings.Contains(c.Data["reply_parameters"], `"message_id":`) {
		t.Errorf("a reply to the subscriber's message = %s, want it to reply there", c.Data["reply_parameters"])
	}
	a.SendInTopic(thread, &models.Message{Photo: []models.PhotoSize{{FileID: "p", Width: 1, Height: 1}}, Caption: "Скриншот"})
	c = e.expect(u.ID, "copyMessage", "Оператор Ирина:\nСкриншот")
	if len(c.Source.Photo) == 0 {
		t.Errorf("copy of %+v, want the photo", c.Source)
	}
}

// lastCopy is the id in the topic of the subscriber's message msg, once the desk has recorded it
// (just after the copy, so a test's agent may otherwise be faster than any real one).
func (e *env) lastCopy(t *testing.T, u *bottest.User, msg int) int {
	t.Helper()
	var id int
	e.eventually(fmt.Sprintf("message %d of %d recorded", msg, u.ID), func() bool {
		m, ok, err := e.store.SupportMessageInChat(context.Background(), u.ID, msg)
		if err != nil {
			t.Fatal(err)
		}
		id = m.TopicMsgID
		return ok
	})
	return id
}

// waitCount waits for query to count want rows: records are written just after the calls a test sees.
func (e *env) waitCount(want int, query string, args ...any) {
	e.t.Helper()
	got := 0
	e.eventually(fmt.Sprintf("%s = %d", query, want), func() bool { got = e.count(query, args...); return got == want })
}

// eventually waits up to 15 s for cond, checking every 10 ms; it waits for an event, it times nothing.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("not within 15 s: %s", what)
		}
		<-time.After(10 * time.Millisecond)
	}
}

// TestMediaAreCopied: whatever a subscriber sends is copied, not forwarded.
func TestMediaAreCopied(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(521, "ru", "+79161234567", 100)
	u.Say("/support")
	e.expect(u.ID, "sendMessage", "")
	media := []*models.Message{
		{Photo: []models.PhotoSize{{FileID: "photo", Width: 10, Height: 10}}, Caption: "чек"},
		{Document: &models.Document{FileID: "doc", FileName: "act.pdf"}},
		{Voice: &models.Voice{FileID: "voice", Duration: 3}},
		{Video: &models.Video{FileID: "video", Width: 1, Height: 1, Duration: 1}},
		{Sticker: &models.Sticker{FileID: "sticker", Type: "regular", Width: 1, Height: 1}},
		{Location: &models.Location{Latitude: 55.75, Longitude: 37.61}},
		{Contact: &models.Contact{PhoneNumber: "+79160000000", FirstName: "Мама"}},
	}
	var thread int
	for i, m := range media {
		id := u.Send(m)
		if i == 0 {
			thread = e.opened("+79161234567")
		}
		c := e.copied(u, id, thread)
		if c.Source.ForwardOrigin != nil {
			t.Errorf("copy %d carries a forward origin", i)
		}
	}
	if n := len(e.srv.Calls("forwardMessage")); n != 0 {
		t.Errorf("forwardMessage calls = %d, want 0: copies hide who sent them", n)
	}
}

// TestRestartKeepsRouting: a new process finds the topic, the conversation and the message map.
func TestRestartKeepsRouting(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(531, "ru", "+79161234567", 100)
	a := e.agent(931, "Ирина")
	u.Say("/support")
	e.expect(u.ID, "sendMessage", "")
	m := u.Say("Помогите")
	thread := e.opened("+79161234567")
	cp := e.copied(u, m, thread)

	e.restart()

	a.ReplyInTopic(thread, e.lastCopy(t, u, m), "Помогаем")
	_ = cp
	c := e.expect(u.ID, "copyMessage", "Помогаем")
	if !strings.Contains(c.Data["reply_parameters"], `"message_id":`+itoa(m)) {
		t.Errorf("answer after a restart replies to %s, want the subscriber's message %d", c.Data["reply_parameters"], m)
	}
	m2 := u.Say("Спасибо") // still in support mode (Redis), still the same topic, no second card
	e.copied(u, m2, thread)
	if n := len(e.srv.Calls("createForumTopic")); n != 1 {
		t.Errorf("createForumTopic calls = %d, want 1", n)
	}
}

// TestDeletedTopicIsRecreated: an admin deleted the topic; the next message makes a new one, the
// mapping follows, nothing is lost.
func TestDeletedTopicIsRecreated(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(541, "ru", "+79161234567", 100)
	a := e.agent(941, "Ирина")
	u.Say("/support")
	e.expect(u.ID, "sendMessage", "")
	e.copied(u, u.Say("Первое"), e.opened("+79161234567"))
	old := e.srv.Calls("createForumTopic")[0].Thread
	e.srv.DeleteTopic(group, old)

	m := u.Say("Второе")
	c := e.expect(group, "createForumTopic", ledger.MaskPhone("+79161234567"))
	if c.Thread == old {
		t.Fatal("the new topic has the deleted one's id")
	}
	e.expect(group, "sendMessage", "Прежнюю тему удалили")
	e.copied(u, m, c.Thread)
	acct, ok, err := e.store.TopicAccount(context.Background(), group, c.Thread)
	if err != nil || !ok || acct != e.account("+79161234567") {
		t.Errorf("TopicAccount(new) = %d, %v, %v", acct, ok, err)
	}
	a.SayInTopic(c.Thread, "Мы здесь")
	e.expect(u.ID, "copyMessage", "Мы здесь")
}

// copyLog tallies the copies a burst brings into the group: each subscriber's in order, and each topic
// holding one subscriber's only.
type copyLog struct {
	got     map[int64][]int // subscriber → their message ids, in the order copied
	threads map[int]int64   // topic → its subscriber
	count   int
}

func newCopyLog() *copyLog { return &copyLog{got: map[int64][]int{}, threads: map[int]int64{}} }

// see records a call into the group: topics and cards pass, copies are tallied, anything else fails t.
func (l *copyLog) see(t *testing.T, c bottest.Call) {
	t.Helper()
	switch c.Method {
	case "createForumTopic", "sendMessage":
	case "copyMessage":
		from := c.Source.Chat.ID
		if prev, ok := l.threads[c.Thread]; ok && prev != from {
			t.Fatalf("thread %d has messages of %d and %d", c.Thread, prev, from)
		}
		l.threads[c.Thread] = from
		l.got[from] = append(l.got[from], c.Source.ID)
		l.count++
	default:
		t.Fatalf("unexpected %s", c.Method)
	}
}

// check fails t unless every subscriber's messages in sent were copied in order, each exactly once.
func (l *copyLog) check(t *testing.T, sent map[int64][]int) {
	t.Helper()
	for user, ids := range sent {
		if a, b := itoas(l.got[user]), itoas(ids); a != b {
			t.Errorf("copies of %d in order %s, want %s exactly once", user, a, b)
		}
	}
}

// TestBurstKeepsOrder: two subscribers write at once; each topic gets their messages in order.
func TestBurstKeepsOrder(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	us := []*bottest.User{e.subscriber(551, "ru", "+79161234567", 1), e.subscriber(552, "ru", "+79161234501", 1)}
	for _, u := range us {
		u.Say("/support")
		e.expect(u.ID, "sendMessage", "")
	}
	const n = 15
	sent := map[int64][]int{}
	for i := range n {
		for _, u := range us {
			sent[u.ID] = append(sent[u.ID], u.Say("m"+itoa(i)))
		}
	}
	copies := newCopyLog()
	for copies.count < 2*n {
		copies.see(t, e.srv.Next(t, group))
	}
	copies.check(t, sent)
}

// TestSubscriberEdits: a subscriber's edit of a message sent to support edits the copy in the topic
// (its text, or a photo's caption); where the copy cannot be edited, a note under it gives the new
// words; an edit of a message that never went to support stays between the subscriber and the bot.
func TestSubscriberEdits(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(581, "ru", "+79161234567", 100)
	thread := e.opening(u, "+79161234567")

	m := u.Say("Баллы не пришли за март")
	cp := e.copied(u, m, thread)
	u.Edit(m, &models.Message{Text: "Баллы не пришли за апрель"})
	if ed := e.expect(group, "editMessageText", "Баллы не пришли за апрель"); ed.MessageID != cp.MessageID {
		t.Errorf("the edit changed message %d, want the copy %d", ed.MessageID, cp.MessageID)
	}

	photo := u.Send(&models.Message{Photo: []models.PhotoSize{{FileID: "p", Width: 1, Height: 1}}, Caption: "чек"})
	pc := e.copied(u, photo, thread)
	u.Edit(photo, &models.Message{Photo: []models.PhotoSize{{FileID: "p", Width: 1, Height: 1}}, Caption: "чек за апрель"})
	if ed := e.expect(group, "editMessageCaption", "чек за апрель"); ed.MessageID != pc.MessageID {
		t.Errorf("the caption edit changed message %d, want the copy %d", ed.MessageID, pc.MessageID)
	}

	e.srv.Fail("editMessageText", group, 400, 0, 1) // "message can't be edited"
	u.Edit(m, &models.Message{Text: "Баллы не пришли за май"})
	note := e.expect(group, "sendMessage", "Абонент изменил сообщение: Баллы не пришли за май")
	if note.Thread != thread || !strings.Contains(note.Data["reply_parameters"], `"message_id":`+itoa(cp.MessageID)) {
		t.Errorf("note in thread %d replying %s, want thread %d under the copy %d", note.Thread, note.Data["reply_parameters"], thread, cp.MessageID)
	}

	u.Say("/cancel")
	e.expect(u.ID, "sendMessage", "Разговор с поддержкой завершён")
	private := u.Say("баланс")
	e.expect(u.ID, "sendMessage", "У вас 100\u00a0баллов.")
	u.Edit(private, &models.Message{Text: "баланс?"})
	u.Say("💬 Поддержка")
	e.expect(u.ID, "sendMessage", "Вы на связи с поддержкой")
	after := u.Say("ещё вопрос") // queued behind the edit: once it is copied, the edit was worked
	e.copied(u, after, thread)
	if n := len(e.srv.Calls("editMessageText")); n != 1 {
		t.Errorf("editMessageText calls = %d, want 1: the refused one is not recorded, the private message's edit made none", n)
	}
}
