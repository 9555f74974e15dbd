package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

// handledLog records which replica handled which update, in the order each chat saw them.
type handledLog struct {
	mu     sync.Mutex
	times  map[int64]int      // update id → times handled
	byChat map[int64][]string // chat → texts, in the order handled
	by     map[string]int     // text → the replica that handled it last
}

func (h *handledLog) engine(replica int) bot.Engine {
	return engineFunc(func(_ context.Context, in dialogs.Input) (dialogs.Reply, error) {
		h.mu.Lock()
		h.times[in.UpdateID]++
		h.byChat[in.ChatID] = append(h.byChat[in.ChatID], in.Text)
		if h.by != nil {
			h.by[in.Text] = replica
		}
		h.mu.Unlock()
		return dialogs.Reply{Lang: "ru", Outputs: []dialogs.Output{dialogs.Say(dialogs.T("echo", "Fallback", in.Text))}}, nil
	})
}

// TestWebhookReplicas: three replicas in webhook mode behind the fake Bot API, which spreads the
// deliveries over them and delivers 5% of the updates twice (half time out while being handled,
// half lose their answer). Every update is handled exactly once and each chat's updates in order.
func TestWebhookReplicas(t *testing.T) {
	t.Parallel()
	const replicas, users, msgs = 3, 40, 15
	srv := bottest.New(t)
	_, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	handled := &handledLog{times: map[int64]int{}, byChat: map[int64][]string{}}
	var backends []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var clients []*redis.Client
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, c := range clients {
			c.Close()
		}
	})
	for i := range replicas {
		rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // a client of its own, as a replica has
		clients = append(clients, rdb)
		b, err := bot.New(ctx, handled.engine(i), texts, nil, rdb, log, bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix,
			ChatBurst: 1000, GlobalRate: 1000, UserRate: 1000, ClaimTTL: 3 * time.Second, ShutdownGrace: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		backends = append(backends, "http://"+ln.Addr().String()+"/telegram")
		wg.Go(func() {
			if err := b.RunWebhook(ctx, ln, "https://bot.example/telegram", "s3cret-s3cret-s3cret"); err != nil {
				t.Error(err)
			}
		})
	}
	srv.DeliverWebhook(bottest.WebhookOptions{Backends: backends, Duplicate: 0.05, Retry: 100 * time.Millisecond, Seed: 1})
	for m := range msgs {
		for u := range users {
			srv.User(int64(1000+u), "ru").Say(fmt.Sprint(m))
		}
	}
	outOfOrder := 0
	for u := range users {
		chat := int64(1000 + u)
		for m := range msgs {
			if got := srv.Next(t, chat).Text; got != fmt.Sprint(m) {
				outOfOrder++
				t.Errorf("chat %d: reply %d = %q, want %d", chat, m, got, m)
				break
			}
		}
	}
	st := srv.WebhookStats()
	handled.mu.Lock()
	defer handled.mu.Unlock()
	twice := 0
	for id, n := range handled.times {
		if n > 1 {
			twice++
			t.Errorf("update %d handled %d times", id, n)
		}
	}
	for chat, texts := range handled.byChat {
		for i, text := range texts {
			if text != fmt.Sprint(i) {
				t.Errorf("chat %d handled %q as its update %d", chat, text, i)
				break
			}
		}
	}
	if len(handled.times) != users*msgs {
		t.Errorf("%d updates handled, want %d", len(handled.times), users*msgs)
	}
	t.Logf("%d updates, %d delivered twice on purpose, %d requests (%d failed); handled twice: %d; chats out of order: %d",
		users*msgs, st.Duplicate, st.Sent, st.Failed, twice, outOfOrder)
	if setWebhooks := srv.Calls("setWebhook"); len(setWebhooks) != 1 || setWebhooks[0].Data["max_connections"] != "40" ||
		setWebhooks[0].Data["allowed_updates"] != `["message","edited_message","callback_query"]` {
		t.Errorf("setWebhook calls = %+v, want one, from the lease holder, with max_connections and allowed_updates", setWebhooks)
	}
}
