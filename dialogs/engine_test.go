package dialogs_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

type bundle struct {
	store  *ledger.Store
	engine *dialogs.Engine
	clock  *ledgertest.Clock
	sms    *dialogstest.SMS
	texts  *locales.Catalog
	rdb    *redis.Client
	prefix string
}

var start = time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow)

func setup(t *testing.T) *bundle { t.Helper(); return setupWith(t, dialogs.Options{}) }

func setupWith(t *testing.T, opts dialogs.Options) *bundle {
	t.Helper()
	clock := ledgertest.NewClock(start)
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	sms := &dialogstest.SMS{}
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	opts.Prefix, opts.Location, opts.Now = prefix, ledgertest.Moscow, clock.Now
	e := dialogs.NewEngine(store, store, sms, texts, rdb, log, opts)
	return &bundle{store: store, engine: e, clock: clock, sms: sms, texts: texts, rdb: rdb, prefix: prefix}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var eventSeq atomic.Int64

// member enrols phone with points earned daysAgo (several lots when given several).
func (b *bundle) member(t *testing.T, phone string, points ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := b.store.Enrol(ctx, phone, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range points {
		ev := ledger.Event{ID: fmt.Sprintf("ev%d", eventSeq.Add(1)), Phone: phone, Category: "referral", Points: &p,
			OccurredAt: b.clock.Now().AddDate(0, -11, 0).Add(time.Duration(i) * 24 * time.Hour)}
		if _, err := b.store.Accrue(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}

func (b *bundle) catalog(t *testing.T) {
	t.Helper()
	items := []ledger.Item{
		{Code: "22", Category: "communication", TitleRU: "100 SMS", TitleEN: "100 SMS", Cost: 299, Active: true},
		{Code: "23", Category: "communication", TitleRU: "100 минут", TitleEN: "100 minutes", Cost: 399, Active: true},
		{Code: "30", Category: "internet", TitleRU: "5 ГБ", TitleEN: "5 GB", Cost: 900, Active: true},
	}
	for i := range 7 {
		items = append(items, ledger.Item{Code: fmt.Sprint(40 + i), Category: "partners", TitleRU: fmt.Sprintf("Купон %d", i),
			TitleEN: fmt.Sprintf("Coupon %d", i), Cost: int64(100 * (i + 1)), Active: true})
	}
	if err := b.store.UpsertItems(context.Background(), items); err != nil {
		t.Fatal(err)
	}
}

type user struct {
	t    *testing.T
	b    *bundle
	id   int64
	lang string
}

func (b *bundle) user(t *testing.T, id int64) *user { return &user{t: t, b: b, id: id, lang: "ru"} }

func (u *user) send(in dialogs.Input) dialogs.Reply {
	u.t.Helper()
	in.Channel, in.UserID, in.ChatID, in.LangCode = "telegram", u.id, u.id, u.lang
	r, err := u.b.engine.Handle(context.Background(), in)
	if err != nil {
		u.t.Fatalf("Handle(%+v): %v", in, err)
	}
	for _, o := range r.Outputs {
		u.t.Logf("%d ← %s", u.id, u.b.texts.Say(r.Lang, o.Lines))
	}
	return r
}

func (u *user) say(text string) dialogs.Reply { u.t.Helper(); return u.send(dialogs.Input{Text: text}) }
func (u *user) cmd(c string) dialogs.Reply    { u.t.Helper(); return u.send(dialogs.Input{Command: c}) }
func (u *user) press(data string) dialogs.Reply {
	u.t.Helper()
	return u.send(dialogs.Input{Data: data})
}

// link walks the whole linking dialog for phone.
func (u *user) link(phone string) {
	u.t.Helper()
	u.cmd("start")
	r := u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: phone, UserID: u.id}})
	want(u.t, r, "code.sent")
	code := u.b.sms.LastCode(phone)
	want(u.t, u.say(code), "link.done")
}

// ids is the first line id of each message.
func ids(r dialogs.Reply) []string {
	var out []string
	for _, o := range r.Outputs {
		if len(o.Lines) > 0 {
			out = append(out, o.Lines[0].ID)
		}
	}
	return out
}

func want(t *testing.T, r dialogs.Reply, id string) dialogs.Output {
	t.Helper()
	for _, o := range r.Outputs {
		for _, l := range o.Lines {
			if l.ID == id {
				return o
			}
		}
	}
	t.Fatalf("reply %v, want a line %s", ids(r), id)
	return dialogs.Output{}
}

// button is the data of the first button whose data starts with prefix.
func button(t *testing.T, r dialogs.Reply, prefix string) string {
	t.Helper()
	for _, o := range r.Outputs {
		for _, row := range o.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, prefix) {
					return b.Data
				}
			}
		}
	}
	t.Fatalf("reply %v has no button %s…", ids(r), prefix)
	return ""
}

func (b *bundle) balance(t *testing.T, account int64) int64 {
	t.Helper()
	bal, err := b.store.Balance(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	return bal.Points
}

func TestLinking(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 1261)
	u := b.user(t, 100)

	r := u.cmd("start")
	if o := want(t, r, "link.welcome"); o.Keyboard != dialogs.ContactKeyboard {
		t.Errorf("/start keyboard = %v, want the contact button", o.Keyboard)
	}
	want(t, u.cmd("balance"), "link.welcome") // no ledger data before linking
	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 999}}), "link.contact.foreign")
	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 100}, Forwarded: true}), "link.contact.foreign")
	if n := len(b.sms.Sent()); n != 0 {
		t.Fatalf("sms sent for someone else's contact: %d", n)
	}
	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+7 999 000-00-00", UserID: 100}}), "link.not_member")

	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "79161234567", UserID: 100}}), "code.sent")
	code := b.sms.LastCode("+79161234567")
	if code == "" {
		t.Fatal("no code in the SMS")
	}
	want(t, u.say("12"), "code.format")
	want(t, u.press("1:rs"), "code.too_soon")
	want(t, u.say(code), "link.done")
	want(t, u.say(code), "unknown.hint") // single use: linked now, a code is just text
	r = u.cmd("balance")
	bal := want(t, r, "balance.text")
	if got := bal.Lines[0].Args["Points"]; got != int64(1261) {
		t.Errorf("balance = %v, want 1261", got)
	}
	want(t, u.say("БОНУС"), "balance.text")
	want(t, u.say("*111*455*0#"), "balance.text")
	want(t, u.say("💰 Баланс"), "balance.text")
}

// Five wrong tries kill the code; its owner waits 15 minutes for that phone, and nobody else does.
func TestWrongCodesKillTheCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 100)
	u := b.user(t, 101)
	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 101}}), "code.sent")
	code := b.sms.LastCode("+79161234567")
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	for tries := 4; tries >= 1; tries-- {
		r := u.say(wrong)
		if got := want(t, r, "code.wrong").Lines[0].Args["Tries"]; got != int64(tries) {
			t.Errorf("tries left = %v, want %d", got, tries)
		}
	}
	want(t, u.say(wrong), "code.locked")
	// Neither the right code nor a new one works for its owner for 15 minutes.
	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 101}}), "code.locked")
	// Nobody can lock a stranger out: once a minute has passed since the last code, another user may ask.
	b.clock.Add(61 * time.Second)
	other := b.user(t, 102)
	want(t, other.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 102}}), "code.sent")
	want(t, other.say(b.sms.LastCode("+79161234567")), "link.done")
	b.clock.Add(16 * time.Minute)
	want(t, u.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 101}}), "code.sent")
	want(t, u.say(b.sms.LastCode("+79161234567")), "link.done")
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestCodeExpiresAndResendLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 100)
	u := b.user(t, 103)
	share := dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234567", UserID: 103}}
	want(t, u.send(share), "code.sent")
	code := b.sms.LastCode("+79161234567")
	want(t, u.send(share), "code.too_soon")
	b.clock.Add(5*time.Minute + time.Second)
	want(t, u.say(code), "code.expired")
	for range 4 { // five codes an hour: one sent above, four more
		want(t, u.press("1:rs"), "code.sent")
		b.clock.Add(61 * time.Second)
	}
	want(t, u.press("1:rs"), "code.limit")

	b.sms.Fail(true)
	v := b.user(t, 104)
	b.member(t, "+79161234500", 1)
	want(t, v.send(dialogs.Input{Contact: &dialogs.Contact{Phone: "+79161234500", UserID: 104}}), "code.sms_failed")
}

func TestRedeem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	acct := b.member(t, "+79161234567", 1000)
	u := b.user(t, 105)
	u.link("+79161234567")

	r := u.cmd("catalog")
	want(t, r, "catalog.title")
	r = u.press(button(t, r, "1:cg:2:")) // partners: 7 items, two pages
	if o := want(t, r, "catalog.items"); !o.Edit {
		t.Error("catalogue page is a new message, want an edit")
	}
	r = u.press(button(t, r, "1:cg:2:1"))
	want(t, r, "catalog.items")

	r = u.say("*111*455*22#")
	confirm := button(t, r, "1:rc:22:299:")
	forged := strings.Replace(confirm, ":299:", ":1:", 1)
	want(t, u.press(forged), "button.stale")
	want(t, u.press("1:rc:22:299:deadbeef"), "button.stale")
	done := want(t, u.press(confirm), "redeem.done")
	if got := done.Lines[0].Args["Balance"]; got != int64(701) {
		t.Errorf("balance after = %v, want 701", got)
	}
	want(t, u.press(confirm), "button.stale") // a second tap orders nothing
	if got := b.balance(t, acct); got != 701 {
		t.Errorf("balance = %d, want 701", got)
	}
	r = u.say("30")
	short := want(t, r, "item.card")
	if short.Lines[1].ID != "redeem.short" || short.Lines[1].Args["Missing"] != int64(199) {
		t.Errorf("item 30 card = %+v, want 199 missing", short.Lines)
	}
	want(t, u.say("99"), "redeem.unknown")
	ledgertest.CheckInvariants(t, b.store.Pool())
}

func TestGift(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := b.member(t, "+79161234567", 500)
	to := b.member(t, "+79161234501", 10)
	u := b.user(t, 106)
	u.link("+79161234567")

	want(t, u.cmd("gift"), "gift.ask_phone")
	want(t, u.say("not a phone"), "phone.invalid")
	want(t, u.say("+7 916 123-45-67"), "gift.self")
	want(t, u.say("8 (916) 123-45-01"), "gift.ask_amount")
	want(t, u.say("5000"), "gift.amount.range")
	want(t, u.say("600"), "gift.amount.over_balance") // the balance is 500
	confirm0 := button(t, u.say("450"), "1:gc:450:")
	r := u.cmd("gift") // start again: the old confirmation is stale
	want(t, r, "gift.ask_phone")
	want(t, u.press(confirm0), "button.stale")

	u.cmd("gift")
	u.say("89161234501")
	r = u.say("100")
	confirm := button(t, r, "1:gc:100:")
	want(t, u.press(strings.Replace(confirm, ":100:", ":500:", 1)), "button.stale")
	done := want(t, u.press(confirm), "gift.done")
	if got := done.Lines[0].Args["Balance"]; got != int64(400) {
		t.Errorf("balance after gift = %v, want 400", got)
	}
	if got := b.balance(t, to); got != 110 {
		t.Errorf("recipient balance = %d, want 110", got)
	}
	want(t, u.cmd("gift"), "gift.daily_limit") // said at once, before asking for a number
	if got := b.balance(t, from); got != 400 {
		t.Errorf("sender balance = %d, want 400", got)
	}

	// The next day a gift made elsewhere (another chat) between the question and the confirmation is
	// caught by the ledger itself at the confirmation.
	b.clock.Set(b.clock.Now().Add(24 * time.Hour))
	u.cmd("gift")
	u.say("89161234501")
	confirm = button(t, u.say("1"), "1:gc:1:")
	if _, err := b.store.Gift(context.Background(), ledger.GiftRequest{From: from, To: "+79161234501", Points: 1}); err != nil {
		t.Fatal(err)
	}
	want(t, u.press(confirm), "gift.daily_limit")
	if got := b.balance(t, from); got != 399 {
		t.Errorf("sender balance = %d, want 399", got)
	}
}

// TestGiftProbing: five lookups of non-members in a local day pause gifting until the next day.
func TestGiftProbing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	u := b.user(t, 107)
	u.link("+79161234567")
	want(t, u.cmd("gift"), "gift.ask_phone")
	for i := range 5 {
		want(t, u.say(fmt.Sprintf("+7916000000%d", i)), "gift.not_member")
	}
	want(t, u.say("+79161234501"), "gift.paused")
	want(t, u.cmd("gift"), "gift.paused")
	b.clock.Set(time.Date(2026, 3, 15, 0, 0, 1, 0, ledgertest.Moscow))
	want(t, u.cmd("gift"), "gift.ask_phone")
	want(t, u.say("+79161234501"), "gift.ask_amount")
}

func TestForecastHistoryLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	b.member(t, "+79161234567", 150, 200)
	u := b.user(t, 108)
	u.link("+79161234567")

	r := u.cmd("forecast")
	fc := want(t, r, "forecast.title")
	var lines []string
	for _, l := range fc.Lines {
		lines = append(lines, l.ID)
	}
	if !slices.Equal(lines, []string{"forecast.title", "forecast.line", "forecast.line", "forecast.total", "forecast.suggest"}) {
		t.Errorf("forecast lines = %v", lines)
	}
	if got := fc.Lines[4].Args["Title"]; got != "Купон 2" {
		t.Errorf("suggestion = %v, want the dearest item 350 points buy (Купон 2, 300)", got)
	}
	want(t, u.cmd("history"), "history.title")

	want(t, u.cmd("language"), "language.choose")
	r = u.press("1:lang:en")
	want(t, r, "language.set")
	if r.Lang != "en" {
		t.Errorf("language = %q, want en", r.Lang)
	}
	if r := u.cmd("balance"); r.Lang != "en" {
		t.Errorf("language after = %q, want en (remembered)", r.Lang)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	u := b.user(t, 109)
	u.link("+79161234567")

	u.cmd("gift")
	u.say("+79161234501")
	want(t, u.cmd("cancel"), "dialog.cancelled")
	want(t, u.say("100"), "redeem.unknown") // not an amount any more: a catalogue code, and there is no such item
}

func TestDialogExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 500)
	b.member(t, "+79161234501", 10)
	u := b.user(t, 110)
	u.link("+79161234567")
	u.cmd("gift")
	u.say("+79161234501")
	r := u.say("100")
	confirm := button(t, r, "1:gc:")
	b.clock.Add(16 * time.Minute)
	want(t, u.press(confirm), "dialog.expired")
	want(t, u.press(confirm), "button.stale")
	want(t, u.cmd("balance"), "balance.text")
}

func TestUnlinkAndAddPhone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.member(t, "+79161234567", 500)
	u := b.user(t, 111)
	u.link("+79161234567")

	want(t, u.press("1:add"), "add.ask")
	want(t, u.say("+79161234599"), "code.sent")
	want(t, u.say(b.sms.LastCode("+79161234599")), "add.done")
	a, err := b.store.AccountByPhone(context.Background(), "+79161234599")
	if err != nil || a.ID != acct {
		t.Errorf("added phone is in account %d (%v), want %d", a.ID, err, acct)
	}
	r := u.press("1:ulq")
	want(t, u.press(button(t, r, "1:ul:")), "unlink.done")
	want(t, u.cmd("balance"), "link.welcome")
}

func TestHistoryPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	points := make([]int64, dialogs.HistoryPage+3)
	for i := range points {
		points[i] = int64(10 + i)
	}
	b.member(t, "+79161234567", points...)
	u := b.user(t, 112)
	u.link("+79161234567")

	r := u.cmd("history")
	first := want(t, r, "history.title")
	if n := len(first.Lines) - 1; n != dialogs.HistoryPage {
		t.Fatalf("first page has %d operations, want %d", n, dialogs.HistoryPage)
	}
	r = u.press(button(t, r, "1:h:"))
	older := want(t, r, "history.title")
	if n := len(older.Lines) - 1; n != 3 || !older.Edit {
		t.Errorf("second page: %d operations (edit %v), want 3 as an edit", n, older.Edit)
	}
	if len(older.Buttons) != 0 {
		t.Errorf("the last page offers %v, want no older button", older.Buttons)
	}
	if got, want := older.Lines[1].Args["Points"], int64(12); got != want {
		t.Errorf("second page starts with %v points, want the third-oldest accrual (%d)", got, want)
	}
}

// TestRedeemPriceChanged: a card confirmed after its price changed charges nothing.
func TestRedeemPriceChanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	acct := b.member(t, "+79161234567", 1000)
	u := b.user(t, 113)
	u.link("+79161234567")

	confirm := button(t, u.say("22"), "1:rc:22:299:")
	if err := b.store.UpsertItems(context.Background(), []ledger.Item{
		{Code: "22", Category: "communication", TitleRU: "100 SMS", TitleEN: "100 SMS", Cost: 350, Active: true}}); err != nil {
		t.Fatal(err)
	}
	want(t, u.press(confirm), "redeem.price_changed")
	if got := b.balance(t, acct); got != 1000 {
		t.Errorf("balance = %d, want 1000 (nothing charged)", got)
	}
	zero := int64(0)
	if err := b.store.UpsertItems(context.Background(), []ledger.Item{
		{Code: "23", Category: "communication", TitleRU: "100 минут", TitleEN: "100 minutes", Cost: 399, Stock: &zero, Active: true}}); err != nil {
		t.Fatal(err)
	}
	want(t, u.say("23"), "redeem.out_of_stock")
}
