package support_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"bonusbot/bot/bottest"
	"bonusbot/bot/support"
)

// opening puts u in support mode and relays one message; it returns the topic's thread.
func (e *env) opening(u *bottest.User, phone string) int {
	e.t.Helper()
	u.Say("/support")
	e.expect(u.ID, "sendMessage", "")
	m := u.Say("Здравствуйте")
	thread := e.opened(phone)
	e.copied(u, m, thread)
	return thread
}

// TestAgentCommands: commands act on the topic's account and answer in the topic; adjustments are
// journalled with the agent and the reason, refused beyond the limit or below zero, and told to the
// subscriber in their language.
func TestAgentCommands(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{MaxAdjust: 1000})
	u := e.subscriber(601, "en", "+79161234567", 500)
	a := e.agent(961, "Ирина")
	thread := e.opening(u, "+79161234567")
	acct := e.account("+79161234567")

	a.SayInTopic(thread, "/balance")
	e.expect(group, "sendMessage", "Баланс: 500\u00a0баллов")
	a.SayInTopic(thread, "/adjust +100 компенсация за сбой")
	if c := e.expect(group, "sendMessage", "Корректировка +100 проведена"); c.Thread != thread || !strings.Contains(c.Text, "Баланс: 600\u00a0баллов") {
		t.Errorf("adjust answer = %q in thread %d, want balance 600 in %d", c.Text, c.Thread, thread)
	}
	e.expect(u.ID, "sendMessage", "We added 100\u00a0points to your account, as agreed with support. Valid until 14\u00a0March\u00a02027. You now have 600\u00a0points.")
	a.SayInTopic(thread, "/adjust +1001 много")
	e.expect(group, "sendMessage", "не больше 1\u00a0000\u00a0баллов")
	a.SayInTopic(thread, "/adjust -700 списание")
	e.expect(group, "sendMessage", "На счёте 600\u00a0баллов — списать 700\u00a0баллов нельзя")
	a.SayInTopic(thread, "/adjust 50")
	e.expect(group, "sendMessage", "Формат: /adjust")
	a.SayInTopic(thread, "/adjust -600 обнуление")
	e.expect(group, "sendMessage", "Корректировка −600 проведена")
	e.expect(u.ID, "sendMessage", "We took 600\u00a0points off your account, as agreed with support. You now have 0\u00a0points.")
	if n := e.count(`SELECT count(DISTINCT tx_id) FROM journal_entries WHERE kind = 'adjustment' AND book = 'adjustment' AND detail LIKE $1`,
		fmt.Sprintf("agent %d: %%", a.ID)); n != 2 {
		t.Errorf("adjustments journalled with agent %d = %d, want 2", a.ID, n)
	}
	if n := e.count(`SELECT count(*) FROM support_actions WHERE action = 'adjust' AND agent_id = $1 AND reason = 'компенсация за сбой'`, a.ID); n != 1 {
		t.Errorf("recorded +100 adjustments = %d, want 1", n)
	}

	a.SayInTopic(thread, "/block")
	e.expect(group, "sendMessage", "Формат: /block причина.")
	a.SayInTopic(thread, "/block проверка безопасности")
	e.expect(group, "sendMessage", "Счёт заблокирован: проверка безопасности.")
	a.SayInTopic(thread, "/adjust +10 после проверки") // blocked accounts may be adjusted
	e.expect(group, "sendMessage", "Корректировка +10 проведена")
	e.expect(u.ID, "sendMessage", "We added 10\u00a0points")
	a.SayInTopic(thread, "/history 3")
	c := e.expect(group, "sendMessage", "Последние операции:")
	if n := strings.Count(c.Text, "\n"); n != 3 || !strings.Contains(c.Text, "после проверки") {
		t.Errorf("/history 3 = %q, want 3 operations with the adjustment's reason", c.Text)
	}
	a.SayInTopic(thread, "/unblock")
	e.expect(group, "sendMessage", "Счёт разблокирован.")
	a.SayInTopic(thread, "/forecast")
	e.expect(group, "sendMessage", "ничего не сгорит")
	a.SayInTopic(thread, "/frobnicate")
	e.expect(group, "sendMessage", "Такой команды нет")
	if n := e.count(`SELECT count(*) FROM support_actions WHERE account_id = $1 AND action IN ('block', 'unblock') AND agent_id = $2`, acct, a.ID); n != 2 {
		t.Errorf("block and unblock records = %d, want 2", n)
	}
}

// TestOnlyMembersAct: a non-member's /adjust and answers are ignored; an anonymous admin's command
// is refused with a note.
func TestOnlyMembersAct(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(611, "ru", "+79161234567", 500)
	a := e.agent(971, "Ирина")
	stranger := e.srv.Agent(972, group, "Мошенник") // in the group's updates, but not a member
	thread := e.opening(u, "+79161234567")

	stranger.SayInTopic(thread, "/adjust +1000 себе")
	stranger.SayInTopic(thread, "Переведите деньги на карту")
	a.SayInTopic(thread, "/balance")
	e.expect(group, "sendMessage", "Баланс: 500\u00a0баллов") // the stranger's command got no answer
	a.SayInTopic(thread, "Настоящий ответ")
	e.expect(u.ID, "copyMessage", "Настоящий ответ") // nor did the stranger's text reach the subscriber
	if n := e.count(`SELECT count(*) FROM journal WHERE kind = 'adjustment'`); n != 0 {
		t.Errorf("adjustment journal lines = %d after a non-member's /adjust, want 0", n)
	}

	e.srv.Anonymous(group, thread, "/adjust +5 анонимно")
	e.expect(group, "sendMessage", "Команды от имени группы не принимаем")
	if n := e.count(`SELECT count(*) FROM journal WHERE kind = 'adjustment'`); n != 0 {
		t.Errorf("adjustment journal lines = %d after an anonymous /adjust, want 0", n)
	}
	if n := len(e.srv.Calls("getChatMember")); n != 2 {
		t.Errorf("getChatMember calls = %d, want 2: one per person, then cached", n)
	}
}

// TestCloseAndIdle: /close tells the subscriber and closes the topic; their next message reopens it
// with a fresh card. A conversation idle for SUPPORT_IDLE closes itself in a River job.
func TestCloseAndIdle(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{Idle: 24 * time.Hour})
	u := e.subscriber(621, "ru", "+79161234567", 500)
	a := e.agent(981, "Ирина")
	thread := e.opening(u, "+79161234567")

	a.SayInTopic(thread, "/close")
	e.expect(u.ID, "sendMessage", "Оператор завершил разговор")
	e.expect(group, "sendMessage", "Разговор закрыт")
	if c := e.expect(group, "closeForumTopic", ""); c.Thread != thread {
		t.Errorf("closed thread %d, want %d", c.Thread, thread)
	}
	a.SayInTopic(thread, "/close")
	e.expect(group, "sendMessage", "Открытого разговора нет.")

	m := u.Say("Ещё вопрос") // still in support mode: reopens
	if c := e.expect(group, "reopenForumTopic", ""); c.Thread != thread {
		t.Errorf("reopened thread %d, want %d", c.Thread, thread)
	}
	e.expect(group, "sendMessage", "Обращение · счёт")
	e.copied(u, m, thread)

	e.clock.Add(23 * time.Hour) // a message 23 h on keeps the conversation alive (ledger tests: 23 h is not idle)
	m2 := u.Say("Алло")
	e.copied(u, m2, thread)
	e.lastCopy(t, u, m2)
	// The sweep River runs at start must be over first: one still running when the clock moves would
	// have read the old time, and the sweep below would be refused as its duplicate.
	e.waitCount(1, `SELECT count(*) FROM river_job WHERE kind = 'support_idle' AND finalized_at IS NOT NULL`)
	e.clock.Add(25 * time.Hour)
	if err := e.notices.Insert(context.Background(), support.IdleArgs{}); err != nil {
		t.Fatal(err)
	}
	e.expect(group, "sendMessage", "Разговор закрылся сам: сообщений не было 24\u00a0ч.")
	e.expect(group, "closeForumTopic", "")
	if n := e.count(`SELECT count(*) FROM support_conversations WHERE close_reason = 'idle'`); n != 1 {
		t.Errorf("idle-closed conversations = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM support_conversations WHERE close_reason = 'agent' AND closed_by = $1`, a.ID); n != 1 {
		t.Errorf("agent-closed conversations = %d, want 1", n)
	}
}

// TestForwardedCard: an agent forwarding a subscriber's message learns who it is.
func TestForwardedCard(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(631, "ru", "+79161234567", 500)
	a := e.agent(991, "Ирина")
	acct := e.account("+79161234567")

	a.ForwardInTopic(0, bottest.ForwardFrom(u.ID, false), "баллы не пришли")
	c := e.expect(group, "sendMessage", fmt.Sprintf("Обращение · счёт %d · +7 916 ***-**-67", acct))
	if c.Thread != 0 || !strings.Contains(c.Text, "Баланс: 500\u00a0баллов") {
		t.Errorf("card in General = %q in thread %d", c.Text, c.Thread)
	}
	a.ForwardInTopic(0, bottest.ForwardFrom(0, true), "кто я?")
	e.expect(group, "sendMessage", "Отправитель скрыл свой аккаунт")
	a.ForwardInTopic(0, bottest.ForwardFrom(555, false), "не подключён")
	e.expect(group, "sendMessage", "Отправитель не подключён")

	a.Forward(bottest.ForwardFrom(u.ID, false), "баллы не пришли") // to the bot's private chat
	e.expect(a.ID, "sendMessage", fmt.Sprintf("Обращение · счёт %d", acct))

	u.Forward(bottest.ForwardFrom(a.ID, false), "смотрите") // a subscriber's forward is the dialogs' business
	e.expect(u.ID, "sendMessage", "Не удалось разобрать")
}

// TestUndeliveredAnswer: an answer to a subscriber who blocked the bot is noted in the topic.
func TestUndeliveredAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(641, "ru", "+79161234567", 500)
	a := e.agent(995, "Ирина")
	thread := e.opening(u, "+79161234567")
	e.srv.Fail("copyMessage", u.ID, 403, 0, 1)
	a.SayInTopic(thread, "Вы тут?")
	e.expect(group, "sendMessage", "Не доставлено: абонент заблокировал бота.")
	a.SayInTopic(thread, "Другой агент без ответа") // a fresh answer is tried again
	e.expect(u.ID, "copyMessage", "Другой агент без ответа")
}
