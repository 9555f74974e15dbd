package support_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/bot/notify"
	"bonusbot/bot/support"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

const group = -1001000000001

// env is one running bonusbot with support: the real bot and desk on a fake Bot API, with real
// Postgres, Redis and River. restart replaces the bot and the desk, keeping the data.
type env struct {
	t       *testing.T
	srv     *bottest.Server
	store   *ledger.Store
	clock   *ledgertest.Clock
	sms     *dialogstest.SMS
	texts   *locales.Catalog
	rdb     *redis.Client
	prefix  string
	log     *slog.Logger
	opts    support.Options
	notices *notify.Client
	desk    *support.Desk
	stop    func()

	replicas []*replica // webhook replicas (setupReplicas); none: one bot polling
}

// replica is one webhook replica: its bot, desk and River client, whose desk stops and starts alone.
type replica struct {
	desk     *support.Desk
	runDesk  func()
	stopDesk func()
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func setup(t *testing.T, opts support.Options) *env {
	t.Helper()
	return setupReplicas(t, opts, 0)
}

// setupReplicas is setup with n replicas in webhook mode behind the fake Bot API, which spreads the
// updates over them as a load balancer would; n = 0 is one replica polling.
func setupReplicas(t *testing.T, opts support.Options, n int) *env {
	t.Helper()
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{MaxAdjust: 1000})
	t.Cleanup(func() { ledgertest.CheckInvariants(t, store.Pool()) })
	if err := notify.Migrate(context.Background(), store.Pool()); err != nil {
		t.Fatal(err)
	}
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	opts.ChatID = group
	opts.GroupRate = cmpOr(opts.GroupRate, 10_000) // the window itself has a unit test
	opts.IdleEvery = cmpOr(opts.IdleEvery, time.Hour)
	e := &env{t: t, srv: bottest.New(t), store: store, clock: clock, sms: &dialogstest.SMS{}, texts: texts, rdb: rdb, prefix: prefix,
		log: slog.New(slog.NewTextHandler(tWriter{t}, nil)), opts: opts}
	if n > 0 {
		e.startReplicas(n)
	} else {
		e.start()
	}
	t.Cleanup(func() { e.stop() })
	return e
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// start runs a bot, a desk and River, as serve does.
func (e *env) start() {
	t := e.t
	t.Helper()
	engine := dialogs.NewEngine(e.store, e.store, e.sms, e.texts, e.rdb, e.log, dialogs.Options{Prefix: e.prefix,
		Location: ledgertest.Moscow, Now: e.clock.Now, Support: dialogs.SupportOptions{Channels: []string{bot.Channel}}})
	desk := support.New(e.store, e.texts, e.log, e.opts)
	notices, err := notify.NewClient(e.store.Pool(), nil, e.log, desk.Jobs())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, engine, e.texts, engine, e.rdb, e.log, bot.Options{Token: e.srv.Token, ServerURL: e.srv.URL,
		Prefix: e.prefix, PollTimeout: 2 * time.Second, ChatBurst: 1000, UserRate: 1000, LeaseTTL: 3 * time.Second, Support: desk})
	if err != nil {
		t.Fatal(err)
	}
	desk.Attach(b)
	if err := notices.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deskCtx, stopDesk := context.WithCancel(context.Background())
	botDone, deskDone := make(chan error, 1), make(chan error, 1)
	go func() { deskDone <- desk.Run(deskCtx) }()
	go func() { botDone <- b.Run(ctx) }()
	e.desk, e.notices = desk, notices
	e.stop = func() {
		cancel()
		if err := <-botDone; err != nil {
			t.Error(err)
		}
		stopDesk() // after the bot: updates in hand may still queue posts
		<-deskDone
		stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		if err := notices.Stop(stopCtx); err != nil {
			t.Error(err)
		}
	}
}

// startReplicas runs n webhook replicas, each with its bot, desk and River client, on the same
// database and Redis.
func (e *env) startReplicas(n int) {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var backends []string
	var wait []func()
	for i := range n {
		engine := dialogs.NewEngine(e.store, e.store, e.sms, e.texts, e.rdb, e.log, dialogs.Options{Prefix: e.prefix,
			Location: ledgertest.Moscow, Now: e.clock.Now, Support: dialogs.SupportOptions{Channels: []string{bot.Channel}},
			CodeSecret: []byte("one secret for every replica, as CODE_SECRET")})
		log := e.log.With("replica", i)
		desk := support.New(e.store, e.texts, log, e.opts)
		notices, err := notify.NewClient(e.store.Pool(), nil, log, desk.Jobs())
		if err != nil {
			t.Fatal(err)
		}
		b, err := bot.New(ctx, engine, e.texts, engine, e.rdb, log, bot.Options{Token: e.srv.Token, ServerURL: e.srv.URL,
			Prefix: e.prefix, ChatBurst: 1000, UserRate: 1000, GlobalRate: 1000, ClaimTTL: 3 * time.Second,
			ShutdownGrace: 5 * time.Second, LeaseTTL: 3 * time.Second, Support: desk})
		if err != nil {
			t.Fatal(err)
		}
		desk.Attach(b)
		if err := notices.Start(ctx); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		backends = append(backends, "http://"+ln.Addr().String()+"/telegram")
		botDone := make(chan error, 1)
		go func() { botDone <- b.RunWebhook(ctx, ln, "https://bot.example/telegram", "s3cret-s3cret-s3cret") }()
		r := &replica{desk: desk, stopDesk: func() {}}
		r.runDesk = func() {
			deskCtx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- desk.Run(deskCtx) }()
			r.stopDesk = func() {
				stop()
				if err := <-done; err != nil {
					t.Error(err)
				}
				r.stopDesk = func() {}
			}
		}
		r.runDesk()
		e.replicas = append(e.replicas, r)
		wait = append(wait, func() {
			if err := <-botDone; err != nil {
				t.Error(err)
			}
			r.stopDesk()
			stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			if err := notices.Stop(stopCtx); err != nil {
				t.Error(err)
			}
		})
		if i == 0 {
			e.desk, e.notices = desk, notices
		}
	}
	e.srv.DeliverWebhook(bottest.WebhookOptions{Backends: backends, Retry: 100 * time.Millisecond})
	e.stop = func() {
		cancel()
		for _, w := range wait {
			w()
		}
	}
}

// restart stops the bot, desk and River and starts new ones on the same data.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// subscriber is a member with points, linked in Telegram.
func (e *env) subscriber(id int64, lang, phone string, points int64) *bottest.User {
	t := e.t
	t.Helper()
	if _, err := e.store.Accrue(context.Background(), ledger.Event{ID: "ev" + phone, Phone: phone, Category: "referral",
		Points: &points, OccurredAt: e.clock.Now().AddDate(0, -1, 0)}); err != nil {
		t.Fatal(err)
	}
	u := e.srv.User(id, lang)
	u.Say("/start")
	e.srv.Next(t, u.ID)
	u.Share(phone, u.ID, false)
	e.srv.Next(t, u.ID)
	u.Say(e.sms.LastCode(phone))
	e.expect(u.ID, "sendMessage", "")
	return u
}

// agent is a member of the support group.
func (e *env) agent(id int64, name string) *bottest.Agent {
	e.srv.SetMember(group, id, "member")
	return e.srv.Agent(id, group, name)
}

// expect takes the next call to chat and checks its method and that its text contains want.
func (e *env) expect(chat int64, method, want string) bottest.Call {
	e.t.Helper()
	c := e.srv.Next(e.t, chat)
	if c.Method != method || !strings.Contains(c.Text, want) {
		e.t.Fatalf("next call to %d = %s %q (thread %d), want %s containing %q", chat, c.Method, c.Text, c.Thread, method, want)
	}
	return c
}

// account is the account of phone.
func (e *env) account(phone string) int64 {
	e.t.Helper()
	a, err := e.store.AccountByPhone(context.Background(), phone)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

// opened expects a new topic for phone's account with its card, and returns the topic's thread.
func (e *env) opened(phone string) int {
	e.t.Helper()
	c := e.expect(group, "createForumTopic", ledger.MaskPhone(phone))
	if want := fmt.Sprint("счёт ", e.account(phone)); !strings.Contains(c.Text, want) {
		e.t.Errorf("topic title %q, want it to name %q", c.Text, want)
	}
	card := e.expect(group, "sendMessage", "Обращение · счёт")
	if card.Thread != c.Thread {
		e.t.Errorf("card went to thread %d, want the new topic %d", card.Thread, c.Thread)
	}
	return c.Thread
}

// copied expects the copy of the subscriber's message msg in thread.
func (e *env) copied(u *bottest.User, msg, thread int) bottest.Call {
	e.t.Helper()
	c := e.expect(group, "copyMessage", "")
	if c.Thread != thread || c.Source == nil || c.Source.ID != msg || c.Source.Chat.ID != u.ID {
		e.t.Fatalf("copy = thread %d of %+v, want message %d of chat %d in thread %d", c.Thread, c.Source, msg, u.ID, thread)
	}
	return c
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func itoa(n int) string { return fmt.Sprint(n) }

func itoas(ns []int) string { return fmt.Sprint(ns) }
