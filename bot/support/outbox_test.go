package support_test

import (
	"testing"
	"time"

	"bonusbot/bot/bottest"
	"bonusbot/bot/support"
)

// TestReplicasShareTheOutbox: two webhook replicas on one database and Redis, updates spread over
// both. A burst from two subscribers reaches each topic in order and exactly once; the group never
// gets more posts than its window allows, counted over both replicas; a replica's desk stopped in
// the middle of the queue leaves the rest to the other.
func TestReplicasShareTheOutbox(t *testing.T) {
	t.Parallel()
	const window, per = 4, time.Second // 4 posts a second stands in for Telegram's 20 a minute
	e := setupReplicas(t, support.Options{GroupRate: window, GroupPer: per, LockPoll: 50 * time.Millisecond}, 2)
	us := []*bottest.User{e.subscriber(561, "ru", "+79161234567", 1), e.subscriber(562, "ru", "+79161234501", 1)}
	for _, u := range us {
		u.Say("/support")
		e.expect(u.ID, "sendMessage", "Вы на связи с поддержкой")
	}
	const n = 6
	start := time.Now() // no post into the group before this
	sent := map[int64][]int{}
	for i := range n {
		for _, u := range us {
			sent[u.ID] = append(sent[u.ID], u.Say("m"+itoa(i)))
		}
	}
	a, b := e.replicas[0], e.replicas[1]
	copies := newCopyLog()
	posts := 0
	for copies.count < 2*n {
		c := e.srv.Next(t, group)
		posts++
		// The k-th post can come no earlier than (k-1)/window whole windows after the first: the
		// window lives in Redis, and its clock is this machine's.
		if earliest := start.Add(time.Duration((posts-1)/window) * per); c.At.Before(earliest) {
			t.Errorf("post %d (%s) came %s after the burst began, before %s: the window let more through",
				posts, c.Method, c.At.Sub(start), earliest.Sub(start))
		}
		switch posts { // whichever desk holds the outbox is stopped at one of these two points
		case 4:
			a.stopDesk()
		case 9:
			a.runDesk()
			b.stopDesk()
		}
		copies.see(t, c)
	}
	copies.check(t, sent)
	e.waitCount(2*n, `SELECT count(*) FROM support_messages WHERE direction = 'in'`)
	e.waitCount(0, `SELECT count(*) FROM support_outbox`)
	if c := len(e.srv.Calls("copyMessage")); c != 2*n {
		t.Errorf("copyMessage calls = %d, want %d: each message exactly once", c, 2*n)
	}
	t.Logf("%d posts into the group in %s", posts, time.Since(start).Round(time.Millisecond))
}

// TestOutboxFailures: a post Telegram refuses for good (400) is marked failed and the next goes;
// one that fails for now (500) is tried again, before anything queued after it.
func TestOutboxFailures(t *testing.T) {
	t.Parallel()
	e := setup(t, support.Options{})
	u := e.subscriber(571, "ru", "+79161234567", 1)
	thread := e.opening(u, "+79161234567")

	e.srv.Fail("copyMessage", group, 400, 0, 1)
	lost := u.Say("удалённое сообщение")
	kept := u.Say("следующее")
	e.copied(u, kept, thread)
	e.waitCount(1, `SELECT count(*) FROM support_outbox WHERE failed_at IS NOT NULL AND payload->>'message' = $1`, itoa(lost))

	e.srv.Fail("copyMessage", group, 500, 0, 1)
	first, second := u.Say("первое"), u.Say("второе")
	e.copied(u, first, thread)
	e.copied(u, second, thread)
	e.waitCount(0, `SELECT count(*) FROM support_outbox WHERE failed_at IS NULL`)
	if n := e.count(`SELECT count(*) FROM support_messages WHERE user_msg_id = $1`, lost); n != 0 {
		t.Errorf("the refused message is recorded %d times, want 0", n)
	}
}
