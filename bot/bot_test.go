package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

type bundle struct {
	srv   *bottest.Server
	store *ledger.Store
	clock *ledgertest.Clock
	sms   *dialogstest.SMS
	bot   *bot.Bot
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type engineFunc func(context.Context, dialogs.Input) (dialogs.Reply, error)

func (f engineFunc) Handle(ctx context.Context, in dialogs.Input) (dialogs.Reply, error) {
	return f(ctx, in)
}

// setup runs the real bot against a fake Bot API, with real Postgres and Redis. wrap, if given,
// wraps the dialogs engine (to make it panic or block).
func setup(t *testing.T, opts bot.Options, wrap func(bot.Engine) bot.Engine) *bundle {
	t.Helper()
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	sms := &dialogstest.SMS{}
	dialogsEngine := dialogs.NewEngine(store, store, sms, texts, rdb, log,
		dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow, Now: clock.Now})
	var engine bot.Engine = dialogsEngine
	if wrap != nil {
		engine = wrap(engine)
	}
	srv := bottest.New(t)
	opts.Token, opts.ServerURL, opts.Prefix = srv.Token, srv.URL, prefix
	opts.PollTimeout = cmpOr(opts.PollTimeout, 2*time.Second)
	opts.ChatBurst = cmpOr(opts.ChatBurst, 100)
	opts.LeaseTTL = cmpOr(opts.LeaseTTL, 3*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, engine, texts, dialogsEngine, rdb, log, opts) // links through the engine's cache
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &bundle{srv: srv, store: store, clock: clock, sms: sms, bot: b}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (b *bundle) member(t *testing.T, phone string, points int64) {
	t.Helper()
	if _, err := b.store.Accrue(context.Background(), ledger.Event{ID: "ev" + phone, Phone: phone, Category: "referral",
		Points: &points, OccurredAt: b.clock.Now().AddDate(0, -1, 0)}); err != nil {
		t.Fatal(err)
	}
}

// expect takes the next message to the user's chat and checks it contains want.
func expect(t *testing.T, b *bundle, u *bottest.User, want string) bottest.Call {
	t.Helper()
	c := b.srv.Next(t, u.ID)
	if !strings.Contains(c.Text, want) {
		t.Fatalf("message to %d = %q, want it to contain %q", u.ID, c.Text, want)
	}
	return c
}

func button(t *testing.T, c bottest.Call, prefix string) string {
	t.Helper()
	data, ok := c.Button(prefix)
	if !ok {
		t.Fatalf("message %q has no button %s… (markup %s)", c.Text, prefix, c.Markup)
	}
	if len(data) > 64 {
		t.Fatalf("callback data %q is %d bytes, over Telegram's 64", data, len(data))
	}
	return data
}

// link walks the linking dialog: /start, own contact, the code from the SMS.
func link(t *testing.T, b *bundle, u *bottest.User, phone string) {
	t.Helper()
	u.Say("/start")
	c := b.srv.Next(t, u.ID)
	if !strings.Contains(c.Markup, `"request_contact":true`) {
		t.Fatalf("/start markup = %s, want a request-contact button", c.Markup)
	}
	u.Share(phone, u.ID, false)
	b.srv.Next(t, u.ID)
	u.Say(b.sms.LastCode(phone))
	b.srv.Next(t, u.ID)
}

func TestLinkingInTelegram(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	b.member(t, "+79161234567", 1261)
	u := b.srv.User(501, "ru")

	u.Say("/start")
	c := expect(t, b, u, "Здравствуйте")
	if !strings.Contains(c.Markup, `"request_contact":true`) {
		t.Errorf("markup = %s, want a request-contact button", c.Markup)
	}
	u.Say("баланс")
	expect(t, b, u, "Поделиться номером") // nothing shown before linking
	u.Share("+79161234567", 999, false)
	expect(t, b, u, "Это не ваш номер")
	u.Share("+79161234567", 501, true)
	expect(t, b, u, "Это не ваш номер")
	if n := len(b.sms.Sent()); n != 0 {
		t.Fatalf("%d SMS sent for someone else's contact", n)
	}
	u.Share("+7 (916) 123-45-67", 501, false)
	c = expect(t, b, u, "Отправили SMS с кодом на +7 916 123-45-67")
	code := b.sms.LastCode("+79161234567")
	u.Press(c.MessageID, button(t, c, "1:rs"))
	expect(t, b, u, "Новый код можно запросить через")
	for tries := 4; tries >= 1; tries-- {
		u.Say("000000")
		if code == "000000" {
			t.Skip("the code happened to be 000000")
		}
		expect(t, b, u, fmt.Sprintf("Осталось попыток: %d", tries))
	}
	u.Say("000000")
	expect(t, b, u, "Следующий код можно будет получить через 15")
	u.Say(code)
	expect(t, b, u, "Поделиться номером") // the dialog is over; the code does not link a locked phone
	b.clock.Add(16 * time.Minute)
	u.Share("+79161234567", 501, false)
	expect(t, b, u, "Отправили SMS")
	b.clock.Add(6 * time.Minute)
	u.Say(b.sms.LastCode("+79161234567"))
	expect(t, b, u, "Код устарел")
	u.Press(0, "1:rs")
	expect(t, b, u, "Отправили SMS")
	u.Say(b.sms.LastCode("+79161234567"))
	c = expect(t, b, u, "Готово, номер +7 916 123-45-67 подключён.")
	if !strings.Contains(c.Markup, "💰 Баланс") {
		t.Errorf("after linking markup = %s, want the main menu", c.Markup)
	}
	u.Say("БОНУС")
	expect(t, b, u, "У вас 1\u00a0261\u00a0балл.")
	u.Say("/balance")
	expect(t, b, u, "У вас 1\u00a0261\u00a0балл.")
}

func TestCatalogueAndRedeem(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	b.member(t, "+79161234567", 1000)
	items := []ledger.Item{{Code: "22", Category: "communication", TitleRU: "100 SMS", TitleEN: "100 SMS", Cost: 299, Active: true}}
	for i := range 8 {
		items = append(items, ledger.Item{Code: fmt.Sprint(50 + i), Category: "partners", TitleRU: fmt.Sprintf("Купон %d", i), TitleEN: fmt.Sprintf("Coupon %d", i), Cost: int64(100 + i), Active: true})
	}
	if err := b.store.UpsertItems(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	u := b.srv.User(502, "ru")
	link(t, b, u, "+79161234567")

	u.Say("каталог")
	cat := expect(t, b, u, "Каталог вознаграждений")
	u.Press(cat.MessageID, button(t, cat, "1:cg:1:0"))
	page := expect(t, b, u, "стр. 1 из 2")
	if page.Method != "editMessageText" || page.MessageID != cat.MessageID {
		t.Errorf("page 1 = %s of message %d, want an edit of %d", page.Method, page.MessageID, cat.MessageID)
	}
	u.Press(cat.MessageID, button(t, page, "1:cg:1:1"))
	expect(t, b, u, "стр. 2 из 2")
	u.Press(cat.MessageID, "1:cat")
	expect(t, b, u, "Каталог вознаграждений")
	u.Press(cat.MessageID, "1:it:22")
	card := expect(t, b, u, "Обменять 299\u00a0баллов на «100 SMS»? После обмена останется 701\u00a0балл.")
	confirm := button(t, card, "1:rc:22:299:")
	u.Press(card.MessageID, strings.Replace(confirm, ":299:", ":1:", 1)) // a forged cost
	expect(t, b, u, "Эта кнопка устарела")
	u.Press(card.MessageID, confirm+"x") // a forged nonce
	expect(t, b, u, "Эта кнопка устарела")
	u.Press(card.MessageID, confirm)
	expect(t, b, u, "Готово! «100 SMS» ваше, списано 299\u00a0баллов. Осталось 701\u00a0балл.")
	u.Press(card.MessageID, confirm) // the same button again orders nothing
	expect(t, b, u, "Эта кнопка устарела")
	if got := len(b.srv.Calls("answerCallbackQuery")); got < 8 {
		t.Errorf("answerCallbackQuery calls = %d, want one per press (8)", got)
	}
	u.Say("*111*455*22#")
	expect(t, b, u, "После обмена останется 402\u00a0балла.")
}

func TestGiftInEnglish(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	u := b.srv.User(503, "en-GB")
	link(t, b, u, "+79161234567")

	u.Say("/gift")
	expect(t, b, u, "Who gets the points?")
	u.Say("+7 916 000-00-00")
	expect(t, b, u, "cannot receive a gift")
	u.Say("8 916 123 45 01")
	expect(t, b, u, "How many points for +7 916 ***-**-01? From 1 to 3,000.")
	u.Say("3001")
	expect(t, b, u, "One gift is 1 to 3,000 points.")
	u.Say("/cancel")
	expect(t, b, u, "Cancelled")
	u.Say("/gift")
	expect(t, b, u, "Who gets the points?")
	u.Say("+79161234501")
	expect(t, b, u, "How many points")
	u.Say("1000")
	expect(t, b, u, "You have 500\u00a0points, so you can gift up to that.")
	u.Say("100")
	c := expect(t, b, u, "Gift 100\u00a0points to +7 916 ***-**-01? You will have 400\u00a0points left.")
	u.Press(c.MessageID, button(t, c, "1:gc:100:"))
	expect(t, b, u, "Done! 100\u00a0points sent to +7 916 ***-**-01. You have 400\u00a0points left.")
	u.Say("/gift")
	expect(t, b, u, "You have already gifted points today")
}

func TestDialogTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	u := b.srv.User(504, "ru")
	link(t, b, u, "+79161234567")
	u.Say("/gift")
	b.srv.Next(t, u.ID)
	u.Say("+79161234501")
	b.srv.Next(t, u.ID)
	b.clock.Add(20 * time.Minute)
	u.Say("100")
	c := expect(t, b, u, "Время ожидания истекло — начнём сначала.")
	if !strings.Contains(c.Markup, "💰 Баланс") {
		t.Errorf("markup = %s, want the menu", c.Markup)
	}
	u.Say("/help")
	expect(t, b, u, "/balance")
	u.Say("что-то непонятное")
	expect(t, b, u, "Не понял")
}

func TestGroupChat(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	u := b.srv.User(505, "ru")
	u.SayInGroup(-100500, "/balance@bonusbot")
	c := b.srv.Next(t, -100500)
	if !strings.Contains(c.Text, "Напишите мне в личные сообщения") {
		t.Errorf("group reply = %q", c.Text)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, func(e bot.Engine) bot.Engine {
		return engineFunc(func(ctx context.Context, in dialogs.Input) (dialogs.Reply, error) {
			if in.Text == "boom" {
				panic("boom")
			}
			return e.Handle(ctx, in)
		})
	})
	u := b.srv.User(506, "ru")
	u.Say("boom")
	expect(t, b, u, "Что-то пошло не так")
	u.Say("/start") // the bot is still alive
	expect(t, b, u, "Здравствуйте")
}

// TestOrderPerChat: many chats at once, each gets its answers in the order it wrote.
func TestOrderPerChat(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{MaxInFlight: 4, UserRate: 1000}, func(bot.Engine) bot.Engine {
		return engineFunc(func(_ context.Context, in dialogs.Input) (dialogs.Reply, error) {
			return dialogs.Reply{Lang: "ru", Outputs: []dialogs.Output{dialogs.Say(dialogs.T("echo", "Fallback", in.Text))}}, nil
		})
	})
	const chats, msgs = 8, 25
	for i := range msgs {
		for c := range chats {
			b.srv.User(int64(600+c), "ru").Say(fmt.Sprint(i))
		}
	}
	for c := range chats {
		for i := range msgs {
			if got := b.srv.Next(t, int64(600+c)).Text; got != fmt.Sprint(i) {
				t.Fatalf("chat %d answer %d = %q, want %q", 600+c, i, got, fmt.Sprint(i))
			}
		}
	}
}

func TestInboundLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{UserRate: 3}, nil)
	u := b.srv.User(507, "ru")
	for range 5 {
		u.Say("/help")
	}
	for range 3 {
		expect(t, b, u, "Бот показывает баллы")
	}
	expect(t, b, u, "Слишком много сообщений")
}

func Test429IsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	u := b.srv.User(508, "ru")
	b.srv.Fail("sendMessage", u.ID, 429, 1, 1)
	u.Say("/start")
	expect(t, b, u, "Здравствуйте")
}

func Test403MarksChatInactive(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	b.member(t, "+79161234567", 10)
	u := b.srv.User(509, "ru")
	link(t, b, u, "+79161234567")
	b.srv.Fail("sendMessage", u.ID, 403, 0, 1)
	if err := b.bot.Notify(context.Background(), u.ID, "hello"); err == nil {
		t.Fatal("Notify to a chat that blocked the bot = nil, want an error")
	}
	l, err := b.store.LinkedAccount(context.Background(), bot.Channel, u.ID)
	if err != nil || l.Active {
		t.Fatalf("link after 403 = %+v, %v; want inactive", l, err)
	}
	u.Say("/balance") // writing again unblocks
	expect(t, b, u, "У вас 10\u00a0баллов.")
	if l, _ := b.store.LinkedAccount(context.Background(), bot.Channel, u.ID); !l.Active {
		t.Error("link after a new message is inactive, want active")
	}
}

func TestCommandsRegistered(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	u := b.srv.User(510, "ru")
	u.Say("/start") // once answered, polling has begun, so the commands are set
	b.srv.Next(t, u.ID)
	calls := b.srv.Calls("setMyCommands")
	if len(calls) != 2 {
		t.Fatalf("setMyCommands calls = %d, want 2 (ru default, en)", len(calls))
	}
	if calls[1].Data["language_code"] != "en" || !strings.Contains(calls[0].Data["commands"], "Баланс баллов") {
		t.Errorf("setMyCommands = %v", calls)
	}
}

// TestShutdownFinishesUpdatesInHand: an update being handled when the bot is stopped is still answered.
func TestShutdownFinishesUpdatesInHand(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	srv := bottest.New(t)
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	engine := engineFunc(func(_ context.Context, in dialogs.Input) (dialogs.Reply, error) {
		close(started)
		<-release
		return dialogs.Reply{Lang: "ru", Outputs: []dialogs.Output{dialogs.Say(dialogs.T("echo", "Fallback", "done"))}}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, engine, texts, nil, rdb, slog.New(slog.DiscardHandler),
		bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix, PollTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	srv.User(701, "ru").Say("slow")
	<-started
	cancel() // SIGTERM while the update is in hand
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls := srv.Calls("sendMessage"); len(calls) != 1 || calls[0].Text != "done" {
		t.Errorf("after Run returned: sendMessage calls = %+v, want the answer", calls)
	}
}

// TestOnePollerPerToken: two instances with one token; the second waits for the lease, so every
// update is answered exactly once.
func TestOnePollerPerToken(t *testing.T) {
	t.Parallel()
	srv := bottest.New(t)
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, nil)
	if err != nil {
		t.Fatal(err)
	}
	var handled sync.Map
	echo := engineFunc(func(_ context.Context, in dialogs.Input) (dialogs.Reply, error) {
		if _, dup := handled.LoadOrStore(in.Text, true); dup {
			t.Errorf("update %q handled twice", in.Text)
		}
		return dialogs.Reply{Lang: "ru", Outputs: []dialogs.Output{dialogs.Say(dialogs.T("echo", "Fallback", in.Text))}}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		b, err := bot.New(ctx, echo, texts, nil, rdb, slog.New(slog.DiscardHandler), bot.Options{Token: srv.Token, ServerURL: srv.URL,
			Prefix: prefix, PollTimeout: 2 * time.Second, ChatBurst: 1000, UserRate: 1000})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { b.Run(ctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	u := srv.User(801, "ru")
	for i := range 30 {
		u.Say(fmt.Sprint("m", i))
	}
	for i := range 30 {
		if got := srv.Next(t, u.ID).Text; got != fmt.Sprint("m", i) {
			t.Fatalf("answer %d = %q, want m%d", i, got, i)
		}
	}
}

func TestGroupChatterIsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.Options{}, nil)
	u := b.srv.User(511, "ru")
	// The chatter comes from an English client, so an answer to it would be in English.
	b.srv.Push(&models.Update{Message: &models.Message{Text: "hi all", From: &models.User{ID: u.ID + 1, LanguageCode: "en"},
		Chat: models.Chat{ID: -100600, Type: models.ChatTypeGroup}}})
	u.SayInGroup(-100600, "/help")
	if c := b.srv.Next(t, -100600); !strings.Contains(c.Text, "личные") {
		t.Errorf("first group reply = %q, want the answer to /help only", c.Text)
	}
}
