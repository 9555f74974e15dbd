package miniapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

const (
	testToken    = "7000000001:AAMiniAppTests"
	testVKSecret = "vk-app-secret-for-tests"
)

var ctx = context.Background()

// fixture is the Mini App on a real ledger (Postgres) and real dialogs engine (Redis).
type fixture struct {
	srv    *httptest.Server
	store  *ledger.Store
	engine *dialogs.Engine
	clock  *ledgertest.Clock
	sms    *dialogstest.SMS
	// newHandler is another Mini App over the same ledger, engine and Redis, with its own options.
	newHandler func(Options) *Handler
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func setup(t testing.TB, opts Options) *fixture {
	t.Helper()
	clock := ledgertest.NewClock(time.Date(2026, 12, 2, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	t.Cleanup(func() { ledgertest.CheckInvariants(t, store.Pool()) })
	rdb, prefix := dialogstest.Redis(t)
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	sms := &dialogstest.SMS{}
	engine := dialogs.NewEngine(store, store, sms, texts, rdb, log, dialogs.Options{Prefix: prefix, Location: ledgertest.Moscow, Now: clock.Now})
	newHandler := func(opts Options) *Handler {
		opts.BotToken, opts.VKSecret, opts.Prefix = testToken, testVKSecret, prefix
		if opts.Now == nil {
			opts.Now = clock.Now
		}
		return New(engine, store, texts, rdb, log, opts)
	}
	srv := httptest.NewServer(newHandler(opts))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: store, engine: engine, clock: clock, sms: sms, newHandler: newHandler}
}

// member enrols phone with points (as 5 ₽ a point of mobile spend today) and links Telegram user tgID to it.
func (f *fixture) member(t testing.TB, tgID int64, phone string, points int64) ledger.Link {
	t.Helper()
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "seed-" + phone, Phone: phone, Category: "mobile", Amount: ptr(points * 500),
		OccurredAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	l, err := f.store.Link(ctx, ledger.Link{Channel: "telegram", UserID: tgID, ChatID: tgID, Phone: phone})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func ptr[T any](v T) *T { return &v }

// tma is a valid Authorization header for Telegram user id, signed a minute ago.
func (f *fixture) tma(id int64) string {
	return "tma " + signTelegram(testToken, telegramFields(fmt.Sprintf(`{"id":%d,"first_name":"Анна","language_code":"ru"}`, id), f.clock.Now().Add(-time.Minute)))
}

// response is an API answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(k string) string { s, _ := r.body[k].(string); return s }
func (r response) num(k string) int64  { n, _ := r.body[k].(float64); return int64(n) }

func (f *fixture) do(t testing.TB, method, path, auth string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	return r
}

func (r response) want(t testing.TB, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Errorf("got %d %s, want %d %q", r.status, r.raw, status, code)
	}
	if code != "" && r.str("message") == "" {
		t.Errorf("refusal %q has no message: %s", code, r.raw)
	}
}

func TestLaunchDataDecidesWhoAsks(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1261)
	now := f.clock.Now()
	user := `{"id":501,"first_name":"Анна"}`
	valid := signTelegram(testToken, telegramFields(user, now.Add(-time.Minute)))
	vk := func(id string, at time.Time) string {
		return "vk " + signVK(testVKSecret, url.Values{"vk_user_id": {id}, "vk_ts": {strconv.FormatInt(at.Unix(), 10)}, "vk_language": {"en"}})
	}
	if _, err := f.store.Link(ctx, ledger.Link{Channel: "vk", UserID: 9001, ChatID: 9001, Phone: "+79160000001", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, auth string
		status     int
		code       string
	}{
		{"no header", "", 401, "unauthorized"},
		{"garbage", "tma %%%", 401, "unauthorized"},
		{"wrong hash", "tma " + flipLast(valid), 401, "unauthorized"},
		{"another bot's token", "tma " + signTelegram("7000000002:AAOther", telegramFields(user, now)), 401, "unauthorized"},
		{"too old", "tma " + signTelegram(testToken, telegramFields(user, now.Add(-2*time.Hour))), 401, "launch_expired"},
		{"user swapped after signing", "tma " + strings.Replace(valid, "%3A501%2C", "%3A502%2C", 1), 401, "unauthorized"},
		{"unknown scheme", "Bearer " + valid, 401, "unauthorized"},
		{"dev outside development", "dev +79160000001", 401, "unauthorized"},
		{"valid, not linked", "tma " + signTelegram(testToken, telegramFields(`{"id":777}`, now)), 403, "not_linked"},
		{"VK, not linked", vk("9002", now), 403, "not_linked"},
		{"VK, too old", vk("9001", now.Add(-2*time.Hour)), 401, "launch_expired"},
		{"VK, linked", vk("9001", now), 200, ""},
		{"valid, linked", "tma " + valid, 200, ""},
	}
	for _, tt := range tests {
		r := f.do(t, "GET", "/api/miniapp/me", tt.auth, nil)
		if r.status != tt.status || r.str("error") != tt.code {
			t.Errorf("%s: GET me = %d %s, want %d %q", tt.name, r.status, r.raw, tt.status, tt.code)
		}
		if tt.status == 200 && (r.num("balance") != 1261 || r.str("points_text") == "" || r.body["phones"].([]any)[0] != "+79160000001") {
			t.Errorf("%s: GET me = %s, want the balance of 1261 of +79160000001", tt.name, r.raw)
		}
	}
	if r := f.do(t, "GET", "/api/miniapp/me", vk("9001", now), nil); r.str("language") != "en" || r.str("points_text") != "1,261\u00a0points" {
		t.Errorf("VK user's me = %s, want English", r.raw)
	}
}

func TestMeForecastHistoryCatalog(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	now := f.clock.Now()
	l := f.member(t, 501, "+79160000001", 100)
	// Points earned eleven months ago burn next month; 25 accruals make more than one history page.
	for i := range 24 {
		if _, err := f.store.Accrue(ctx, ledger.Event{ID: fmt.Sprint("old-", i), Phone: "+79160000001", Category: "mobile",
			Amount: ptr(int64(500 * (i + 1))), OccurredAt: now.AddDate(0, -11, 0).Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	burning := int64(24 * 25 / 2) // 1 + 2 + … + 24
	auth := f.tma(501)
	me := f.do(t, "GET", "/api/miniapp/me", auth, nil)
	nb, _ := me.body["nearest_burn"].(map[string]any)
	if me.num("account_id") != l.AccountID || me.num("balance") != 100+burning || nb["date"] != "2027-01-02" || int64(nb["points"].(float64)) != burning {
		t.Errorf("me = %s", me.raw)
	}
	fc := f.do(t, "GET", "/api/miniapp/forecast", auth, nil)
	months := fc.body["months"].([]any)
	if len(months) != 12 || months[0].(map[string]any)["month"] != "2026-12" || months[11].(map[string]any)["month"] != "2027-11" {
		t.Fatalf("forecast months = %s", fc.raw)
	}
	if jan := months[1].(map[string]any); int64(jan["points"].(float64)) != burning || jan["label"] != "янв" || fc.num("total") != burning {
		t.Errorf("forecast = %s, want %d in January 2027", fc.raw, burning)
	}
	page := f.do(t, "GET", "/api/miniapp/history", auth, nil)
	ops := page.body["operations"].([]any)
	next := page.str("next")
	if len(ops) != historyPage || next == "" {
		t.Fatalf("history page 1 = %d operations, next %q", len(ops), next)
	}
	page2 := f.do(t, "GET", "/api/miniapp/history?before="+next, auth, nil)
	if ops2 := page2.body["operations"].([]any); len(ops2) != 25-historyPage || page2.body["next"] != nil {
		t.Errorf("history page 2 = %s, want the last 5 and no next", page2.raw)
	}
	if r := f.do(t, "GET", "/api/miniapp/history?before=x", auth, nil); r.status != 400 {
		t.Errorf("history?before=x = %d", r.status)
	}
	if err := f.store.UpsertItems(ctx, []ledger.Item{
		{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 SMS", Cost: 170, Active: true},
		{Code: "90", Category: "partners", TitleRU: "Скидка", TitleEN: "Discount", Cost: 1_000_000, Active: true},
		{Code: "91", Category: "partners", TitleRU: "Кончилось", TitleEN: "Gone", Cost: 10, Stock: ptr(int64(0)), Active: true},
	}); err != nil {
		t.Fatal(err)
	}
	cat := f.do(t, "GET", "/api/miniapp/catalog", auth, nil)
	got := map[string]string{}
	for _, it := range cat.body["items"].([]any) {
		m := it.(map[string]any)
		got[m["code"].(string)] = fmt.Sprint(m["available"], m["affordable"], m["confirm_text"] != nil)
	}
	if want := map[string]string{"22": "true true true", "90": "true false false", "91": "false true false"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("catalog available/affordable/confirmable = %v, want %v", got, want)
	}
}

// The same redeem request sent eight times at once, as a flaky network retries it, orders once.
func TestRedeemRetriedInParallelSpendsOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1000)
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 SMS", Cost: 170, Active: true}}); err != nil {
		t.Fatal(err)
	}
	auth := f.tma(501)
	if r := f.do(t, "POST", "/api/miniapp/redeem", auth, map[string]any{"code": "22"}); r.status != 400 || r.str("error") != "idempotency_key_required" {
		t.Errorf("redeem without a key = %d %s", r.status, r.raw)
	}
	var wg sync.WaitGroup
	orders := make([]response, 8)
	for i := range orders {
		wg.Go(func() {
			orders[i] = f.do(t, "POST", "/api/miniapp/redeem", auth, map[string]any{"code": "22", "cost": 170}, "Idempotency-Key", "tap-1")
		})
	}
	wg.Wait()
	for i, r := range orders {
		if r.status != 200 || r.num("order_id") != orders[0].num("order_id") || r.num("order_id") == 0 || r.num("balance") != 830 {
			t.Errorf("try %d = %d %s, want order %d and balance 830", i, r.status, r.raw, orders[0].num("order_id"))
		}
	}
	if me := f.do(t, "GET", "/api/miniapp/me", auth, nil); me.num("balance") != 830 {
		t.Errorf("balance after eight tries = %d, want 830", me.num("balance"))
	}
	f.do(t, "POST", "/api/miniapp/redeem", auth, map[string]any{"code": "nope"}, "Idempotency-Key", "tap-1").want(t, 422, "idempotency_key_reused")
	f.do(t, "POST", "/api/miniapp/redeem", auth, map[string]any{"code": "22", "cost": 150}, "Idempotency-Key", "tap-2").want(t, 409, "price_changed")
	f.do(t, "POST", "/api/miniapp/redeem", auth, map[string]any{"code": "nope"}, "Idempotency-Key", "tap-3").want(t, 422, "unknown_item")
}

func TestGiftFromThePage(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1000)
	f.member(t, 502, "+79160000002", 5)
	auth := f.tma(501)
	check := f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "8 916 000-00-02", "points": 300})
	if check.status != 200 || check.str("recipient") != "+79160000002" || check.num("balance_after") != 700 || !strings.Contains(check.str("confirm_text"), "+7 916 000-00-02") {
		t.Fatalf("gift/check = %d %s", check.status, check.raw)
	}
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79160000001", "points": 1}).want(t, 422, "gift_to_self")
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79169999999", "points": 1}).want(t, 422, "unknown_recipient")
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "hello", "points": 1}).want(t, 422, "invalid_phone")
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79160000002", "points": 3001}).want(t, 422, "invalid_amount")
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79160000002", "points": 1001}).want(t, 409, "insufficient_points")
	var wg sync.WaitGroup
	gifts := make([]response, 6)
	for i := range gifts {
		wg.Go(func() {
			gifts[i] = f.do(t, "POST", "/api/miniapp/gift", auth, map[string]any{"phone": "+79160000002", "points": 300}, "Idempotency-Key", "gift-1")
		})
	}
	wg.Wait()
	for i, r := range gifts {
		if r.status != 200 || r.num("balance") != 700 || r.num("gift_id") != gifts[0].num("gift_id") {
			t.Errorf("gift try %d = %d %s", i, r.status, r.raw)
		}
	}
	if me := f.do(t, "GET", "/api/miniapp/me", f.tma(502), nil); me.num("balance") != 305 {
		t.Errorf("recipient balance = %d, want 305 (one gift of 300)", me.num("balance"))
	}
	// The same rules as the chat: one gift a day; a key used for another gift is refused.
	f.do(t, "POST", "/api/miniapp/gift", auth, map[string]any{"phone": "+79160000002", "points": 5}, "Idempotency-Key", "gift-2").want(t, 409, "gift_daily_limit")
	f.do(t, "POST", "/api/miniapp/gift", auth, map[string]any{"phone": "+79160000002", "points": 5}, "Idempotency-Key", "gift-1").want(t, 422, "idempotency_key_reused")
}

// Lookups of numbers that are not members pause gifting for the day, counted with the chat's lookups.
func TestGiftCheckCountsProbes(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{Rate: 1000})
	f.member(t, 501, "+79160000001", 1000)
	f.member(t, 502, "+79160000002", 5)
	auth := f.tma(501)
	for i := range 5 {
		f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": fmt.Sprintf("+7916999999%d", i), "points": 1}).want(t, 422, "unknown_recipient")
	}
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79160000002", "points": 1}).want(t, 409, "gift_paused")
	f.do(t, "POST", "/api/miniapp/gift", auth, map[string]any{"phone": "+79160000002", "points": 1}, "Idempotency-Key", "g").want(t, 409, "gift_paused")
}

func TestLinkFromThePage(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.member(t, 999, "+79160000001", 50) // someone else's Telegram; the page's user proves the number by SMS
	auth := f.tma(501)
	f.do(t, "GET", "/api/miniapp/me", auth, nil).want(t, 403, "not_linked")
	f.do(t, "POST", "/api/miniapp/link/start", auth, map[string]any{"phone": "+79169999999"}).want(t, 422, "not_member")
	f.do(t, "POST", "/api/miniapp/link/confirm", auth, map[string]any{"code": "123456"}).want(t, 409, "code_expired")
	if r := f.do(t, "POST", "/api/miniapp/link/start", auth, map[string]any{"phone": "8 (916) 000-00-01"}); r.status != 202 {
		t.Fatalf("link/start = %d %s", r.status, r.raw)
	}
	code := f.sms.LastCode("+79160000001")
	if code == "" {
		t.Fatal("no code was sent")
	}
	again := f.do(t, "POST", "/api/miniapp/link/start", auth, map[string]any{"phone": "+79160000001"})
	again.want(t, 409, "code_too_soon")
	if again.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After = %q, want 60", again.header.Get("Retry-After"))
	}
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	f.do(t, "POST", "/api/miniapp/link/confirm", auth, map[string]any{"code": wrong}).want(t, 422, "wrong_code")
	me := f.do(t, "POST", "/api/miniapp/link/confirm", auth, map[string]any{"code": code})
	if me.status != 200 || me.num("balance") != 50 {
		t.Fatalf("link/confirm = %d %s", me.status, me.raw)
	}
	// Linked in the page is linked in the chat, at once.
	if l, err := f.engine.Account(ctx, dialogs.Visitor{Channel: "telegram", UserID: 501}); err != nil || l.Phone != "+79160000001" {
		t.Errorf("the chat sees link %+v, %v", l, err)
	}
	f.do(t, "POST", "/api/miniapp/link/start", auth, map[string]any{"phone": "+79160000001"}).want(t, 409, "already_linked")
}

// flipLast changes the last hex digit of a signed initData's hash.
func flipLast(signed string) string {
	q, _ := url.ParseQuery(signed)
	h := q.Get("hash")
	flipped := "0"
	if h[len(h)-1] == '0' {
		flipped = "1"
	}
	q.Set("hash", h[:len(h)-1]+flipped)
	return q.Encode()
}

func mustAtoi(t testing.TB, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLanguageSwitchReachesTheChat(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1261)
	auth := f.tma(501)
	f.do(t, "POST", "/api/miniapp/language", auth, map[string]any{"language": "de"}).want(t, 422, "invalid_language")
	if r := f.do(t, "POST", "/api/miniapp/language", auth, map[string]any{"language": "en"}); r.status != 200 {
		t.Fatalf("language = %d %s", r.status, r.raw)
	}
	if me := f.do(t, "GET", "/api/miniapp/me", auth, nil); me.str("language") != "en" || me.str("balance_text") != "You have 1,261\u00a0points." {
		t.Errorf("me after switching = %s", me.raw)
	}
	if l, err := f.engine.Account(ctx, dialogs.Visitor{Channel: "telegram", UserID: 501}); err != nil || l.Language != "en" {
		t.Errorf("the chat sees language %q, %v", l.Language, err)
	}
}

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{Rate: 3})
	f.member(t, 501, "+79160000001", 10)
	auth := f.tma(501)
	big := map[string]any{"phone": strings.Repeat("1", MaxBody)}
	f.do(t, "POST", "/api/miniapp/gift/check", auth, big).want(t, 413, "too_large")
	f.do(t, "POST", "/api/miniapp/gift/check", auth, map[string]any{"phone": "+79160000002", "points": 1, "pionts": 2}).want(t, 400, "malformed_request")
	r := f.do(t, "POST", "/api/miniapp/gift/check", auth, nil, "Content-Type", "text/plain")
	r.want(t, 415, "unsupported_media_type")
	limited := f.do(t, "GET", "/api/miniapp/me", auth, nil)
	limited.want(t, 429, "rate_limited")
	if s, _ := strconv.Atoi(limited.header.Get("Retry-After")); s < 1 || s > 60 {
		t.Errorf("Retry-After = %q", limited.header.Get("Retry-After"))
	}
	// Another user has a limit of their own.
	f.member(t, 502, "+79160000002", 10)
	if r := f.do(t, "GET", "/api/miniapp/me", f.tma(502), nil); r.status != 200 {
		t.Errorf("another user = %d", r.status)
	}
}

func TestDevModeOpensADemoAccount(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{Dev: true})
	f.member(t, 501, "+79160000001", 42)
	if me := f.do(t, "GET", "/api/miniapp/me", "dev +7 916 000-00-01", nil); me.status != 200 || me.num("balance") != 42 {
		t.Errorf("dev me = %d %s", me.status, me.raw)
	}
	f.do(t, "GET", "/api/miniapp/me", "dev +79169999999", nil).want(t, 401, "unauthorized")
}

func TestStringsAndPage(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	r := f.do(t, "GET", "/api/miniapp/strings?lang=en-GB", "", nil)
	s, _ := r.body["strings"].(map[string]any)
	if r.str("lang") != "en" || s["menu.catalog"] != "🛍 Catalogue" || s["app.title"] == nil || r.body["max_age"] != nil {
		t.Errorf("strings = %s", r.raw)
	}
	for id, v := range s {
		if strings.Contains(v.(string), "<no value>") || strings.HasPrefix(v.(string), "app.") {
			t.Errorf("string %s = %q: page strings take no arguments", id, v)
		}
	}
	page := f.do(t, "GET", "/app/", "", nil)
	if page.status != 200 || !strings.Contains(page.raw, `<script src="app.js" defer>`) {
		t.Errorf("GET /app/ = %d", page.status)
	}
	f.do(t, "GET", "/api/miniapp/nothing", "", nil).want(t, 404, "not_found")
}

// Every refusal the page can meet has its own code, and its sentence renders in both languages.
func TestRefusalTable(t *testing.T) {
	t.Parallel()
	texts, err := locales.New(time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[error]bool{}
	for _, r := range refusals {
		if seen[r.err] {
			t.Errorf("%v is in the table twice", r.err)
		}
		seen[r.err] = true
		for _, lang := range locales.Langs {
			if s := texts.Render(lang, dialogs.T(r.msgID, "Max", int64(3000), "Tries", int64(2), "Seconds", int64(9), "Minutes", int64(3), "At", time.Now())); s == r.msgID || strings.Contains(s, "<no value>") {
				t.Errorf("%s (%s) renders as %q", r.code, lang, s)
			}
		}
	}
	pageMeets := []error{ledger.ErrInsufficientPoints, ledger.ErrOutOfStock, ledger.ErrItemUnavailable, ledger.ErrPriceChanged,
		ledger.ErrGiftDailyLimit, ledger.ErrGiftMonthlyLimit, dialogs.ErrGiftPaused, ledger.ErrAccountBlocked, dialogs.ErrAlreadyLinked,
		ledger.ErrPhoneTaken, dialogs.ErrCodeLocked, dialogs.ErrCodeTooSoon, dialogs.ErrCodeLimit, dialogs.ErrCodeExpired,
		ledger.ErrInvalidPhone, ledger.ErrGiftAmount, ledger.ErrUnknownItem, ledger.ErrGiftRecipient, ledger.ErrUnknownPhone,
		ledger.ErrGiftToSelf, dialogs.ErrCodeWrong, ledger.ErrIdempotencyKeyReused, dialogs.ErrSMSFailed, ledger.ErrNotLinked}
	for _, err := range pageMeets {
		if !seen[err] {
			t.Errorf("%v has no row in the refusal table", err)
		}
	}
}

// TestRedisDownIsTemporarilyUnavailable: without Redis the page is told "temporarily unavailable"
// (503, Retry-After), not "something went wrong"; Postgres alone is not enough to serve it.
func TestRedisDownIsTemporarilyUnavailable(t *testing.T) {
	t.Parallel()
	clock := ledgertest.NewClock(time.Date(2026, 12, 2, 12, 0, 0, 0, ledgertest.Moscow))
	store := ledgertest.NewStore(t, clock, ledger.Options{})
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialerRetries: 1}) // nothing listens on port 1
	t.Cleanup(func() { down.Close() })
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	engine := dialogs.NewEngine(store, store, &dialogstest.SMS{}, texts, down, log, dialogs.Options{Location: ledgertest.Moscow, Now: clock.Now})
	srv := httptest.NewServer(New(engine, store, texts, down, log, Options{BotToken: testToken, VKSecret: testVKSecret, Now: clock.Now}))
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, store: store, engine: engine, clock: clock}
	r := f.do(t, http.MethodGet, "/api/miniapp/me", f.tma(42), nil)
	r.want(t, http.StatusServiceUnavailable, "unavailable")
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.str("message"), "временно недоступен") {
		t.Errorf("Redis down: %d %s (Retry-After %q), want the temporarily-unavailable sentence and a Retry-After", r.status, r.raw, r.header.Get("Retry-After"))
	}
}

// The chart's twelve months are counted from this replica's clock and the burns from the ledger's; at
// the turn of a month the two can name different months, and a burn past the chart's last month is
// left out (it made GET forecast panic with an index out of range).
func TestForecastAcrossAMonthTurn(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 10)
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "nov", Phone: "+79160000001", Category: "mobile", Amount: ptr(int64(5000)),
		OccurredAt: time.Date(2026, 11, 1, 12, 0, 0, 0, ledgertest.Moscow)}); err != nil { // burns on 1 November 2027
		t.Fatal(err)
	}
	behind := func() time.Time { return f.clock.Now().AddDate(0, 0, -2) } // 30 November here, 2 December in the ledger
	srv := httptest.NewServer(f.newHandler(Options{Now: behind}))
	t.Cleanup(srv.Close)
	g := &fixture{srv: srv, clock: f.clock}
	auth := "tma " + signTelegram(testToken, telegramFields(`{"id":501}`, behind().Add(-time.Minute)))
	fc := g.do(t, "GET", "/api/miniapp/forecast", auth, nil)
	months, _ := fc.body["months"].([]any)
	if fc.status != 200 || len(months) != 12 || months[0].(map[string]any)["month"] != "2026-11" {
		t.Errorf("forecast = %d %s, want 12 months from November 2026", fc.status, fc.raw)
	}
}

// A blocked account is told so before any confirmation is offered, in the page as in the chat: the
// catalogue says it is blocked and offers no item's confirmation.
func TestBlockedAccountSeesNoConfirmation(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	l := f.member(t, 501, "+79160000001", 1000)
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 SMS", Cost: 170, Active: true}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetBlocked(ctx, l.AccountID, true); err != nil {
		t.Fatal(err)
	}
	cat := f.do(t, "GET", "/api/miniapp/catalog", f.tma(501), nil)
	if cat.body["blocked"] != true || !strings.Contains(cat.str("blocked_text"), "заблокирован") {
		t.Errorf("catalog of a blocked account = %s, want it to say so", cat.raw)
	}
	for _, it := range cat.body["items"].([]any) {
		if m := it.(map[string]any); m["confirm_text"] != nil {
			t.Errorf("item %v offers a confirmation to a blocked account", m["code"])
		}
	}
}
