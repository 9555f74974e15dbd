package ledger_test

import (
	"sync"
	"testing"
	"time"

	"bonusbot/ledger"
)

const group = -1001234567890

func TestSupportConversationLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 50000, f.clock.Now()).AccountID

	if _, ok, err := f.store.Topic(ctx, group, acct); err != nil || ok {
		t.Fatalf("Topic before any = %v, %v; want none", ok, err)
	}
	if err := f.store.SetTopic(ctx, ledger.SupportTopic{ChatID: group, AccountID: acct, ThreadID: 7}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := f.store.TopicAccount(ctx, group, 7); err != nil || !ok || got != acct {
		t.Fatalf("TopicAccount(7) = %d, %v, %v; want %d", got, ok, err, acct)
	}

	// Concurrent first messages open one conversation.
	var wg sync.WaitGroup
	convs := make([]ledger.Conversation, 8)
	opened := make([]bool, 8)
	for i := range convs {
		wg.Go(func() {
			var err error
			if convs[i], opened[i], err = f.store.OpenConversation(ctx, group, acct, 501); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range convs {
		if opened[i] {
			n++
		}
		if convs[i].ID != convs[0].ID {
			t.Errorf("conversation %d = %d, want one conversation (%d)", i, convs[i].ID, convs[0].ID)
		}
	}
	if n != 1 {
		t.Errorf("%d callers opened a conversation, want 1", n)
	}
	if convs[0].UserChatID != 501 {
		t.Errorf("conversation's chat = %d, want the subscriber's 501", convs[0].UserChatID)
	}
	conv := convs[0]

	in := ledger.SupportMessage{ChatID: group, TopicMsgID: 100, UserChatID: 501, UserMsgID: 5, Direction: ledger.SupportIn,
		AccountID: acct, ConversationID: conv.ID}
	out := ledger.SupportMessage{ChatID: group, TopicMsgID: 101, UserChatID: 501, UserMsgID: 6, Direction: ledger.SupportOut,
		AccountID: acct, ConversationID: conv.ID, AgentID: 9}
	f.clock.Add(time.Hour)
	for _, m := range []ledger.SupportMessage{in, out, in} { // a replay changes nothing
		if err := f.store.RecordSupportMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, _ := f.store.SupportMessageInTopic(ctx, group, 101); !ok || got.UserMsgID != 6 || got.AgentID != 9 || got.Direction != ledger.SupportOut {
		t.Errorf("SupportMessageInTopic(101) = %+v, %v", got, ok)
	}
	if got, ok, _ := f.store.SupportMessageInChat(ctx, 501, 5); !ok || got.TopicMsgID != 100 || got.Direction != ledger.SupportIn {
		t.Errorf("SupportMessageInChat(501, 5) = %+v, %v", got, ok)
	}
	if got, ok, _ := f.store.LastSubscriberMessage(ctx, group, acct); !ok || got.TopicMsgID != 100 {
		t.Errorf("LastSubscriberMessage = %+v, %v; want the subscriber's message 100", got, ok)
	}

	// Idle: nothing for 23 h is not idle; 25 h is.
	f.clock.Add(23 * time.Hour)
	if cs, err := f.store.CloseIdleConversations(ctx, 24*time.Hour, 10); err != nil || len(cs) != 0 {
		t.Fatalf("CloseIdleConversations after 23 h = %v, %v; want none", cs, err)
	}
	f.clock.Add(2 * time.Hour)
	cs, err := f.store.CloseIdleConversations(ctx, 24*time.Hour, 10)
	if err != nil || len(cs) != 1 || cs[0].ID != conv.ID || cs[0].CloseReason != "idle" || cs[0].ClosedBy != 0 {
		t.Fatalf("CloseIdleConversations after 25 h = %+v, %v; want conversation %d closed as idle", cs, err, conv.ID)
	}
	if tp, _, _ := f.store.Topic(ctx, group, acct); !tp.Closed {
		t.Error("topic after an idle close is open, want closed")
	}
	if _, ok, _ := f.store.OpenConversationOf(ctx, group, acct); ok {
		t.Error("an open conversation remains after the idle close")
	}

	// The next message opens a new conversation; an agent closes it.
	next, opened2, err := f.store.OpenConversation(ctx, group, acct, 0)
	if err != nil || !opened2 || next.ID == conv.ID {
		t.Fatalf("OpenConversation after close = %+v, %v, %v; want a new one", next, opened2, err)
	}
	if err := f.store.SetTopicClosed(ctx, group, acct, false); err != nil {
		t.Fatal(err)
	}
	closed, ok, err := f.store.CloseConversation(ctx, group, acct, 42)
	if err != nil || !ok || closed.ID != next.ID || closed.ClosedBy != 42 || closed.CloseReason != "agent" || closed.ClosedAt.IsZero() {
		t.Fatalf("CloseConversation = %+v, %v, %v", closed, ok, err)
	}
	if _, ok, err := f.store.CloseConversation(ctx, group, acct, 42); err != nil || ok {
		t.Errorf("second CloseConversation = %v, %v; want nothing to close", ok, err)
	}
	if _, _, err := f.store.OpenConversation(ctx, group, 999, 0); err == nil {
		t.Error("OpenConversation(unknown account) = nil error")
	}
}

func TestAccountCard(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 500000, f.clock.Now()).AccountID // 1000
	addItem(t, f, "22", 299, nil)
	if _, err := f.store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct, Code: "22"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Link(ctx, ledger.Link{Channel: "telegram", UserID: 1, ChatID: 1, Phone: "+79160000001", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.store.AccountCard(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if c.Balance.Points != 701 || len(c.Recent) != 2 || len(c.Orders) != 1 || c.Orders[0].Code != "22" ||
		c.Orders[0].TitleRU != "100 SMS" || len(c.Languages) != 1 || c.Languages[0] != "en" || c.Account.Phones[0] != "+79160000001" {
		t.Errorf("card = %+v", c)
	}
}
