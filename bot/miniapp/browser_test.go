package miniapp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bonusbot/bot/miniapp/miniapptest"
	"bonusbot/ledger"
)

// TestPageInABrowser opens the page in headless Chromium as a Telegram user (window.Telegram.WebApp is
// a stub carrying signed initData: Telegram's script cannot load offline), sees the balance, opens the
// forecast chart, redeems an item, sees the new balance and switches to English.
func TestPageInABrowser(t *testing.T) {
	t.Parallel()
	if _, err := miniapptest.Chromium(); err != nil {
		t.Skipf("no browser on this machine, so the page is not tried in one: %v", err)
	}
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1261)
	if _, err := f.store.Accrue(ctx, ledger.Event{ID: "old", Phone: "+79160000001", Category: "referral",
		OccurredAt: f.clock.Now().AddDate(0, -11, 0)}); err != nil { // 50 points that burn next month
		t.Fatal(err)
	}
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "22", Category: "sms", TitleRU: "50 SMS", TitleEN: "50 SMS", Cost: 170, Active: true}}); err != nil {
		t.Fatal(err)
	}
	tg := &miniapptest.Telegram{ColorScheme: "light",
		InitData: signTelegram(testToken, telegramFields(`{"id":501,"first_name":"Анна","language_code":"ru"}`, f.clock.Now().Add(-time.Minute)))}
	tab := openTab(t, 360, 740, false, tg, 90*time.Second)

	run(t, tab, "open", chromedp.Navigate(f.srv.URL+"/app/"), chromedp.WaitVisible("#balance"))
	waitText(t, tab, "#balance", "1\u00a0311\u00a0баллов")
	waitText(t, tab, "#burn", "Ближайшее сгорание: 50\u00a0баллов\u00a0— 2\u00a0января\u00a02027 (через 31\u00a0день).")

	run(t, tab, "forecast", chromedp.Click(`[data-go="forecast"]`), chromedp.WaitVisible(`svg.chart rect.bar[data-month="2027-01"]`))
	waitText(t, tab, ".total", "Всего: 50\u00a0баллов.") // today's 1 261 burn in December 2027, past the chart
	if bars := count(t, tab, "svg.chart rect.bar"); bars != 1 {
		t.Errorf("chart has %d bars, want January's alone", bars)
	}

	run(t, tab, "catalogue", chromedp.Click("#back"), chromedp.WaitVisible(`[data-go="catalog"]`), chromedp.Click(`[data-go="catalog"]`),
		chromedp.WaitVisible(`.row[data-code="22"]`), chromedp.Click(`.row[data-code="22"]`), chromedp.WaitVisible(".confirm"))
	waitText(t, tab, ".confirm", "Обменять 170\u00a0баллов на «50 SMS»? После обмена останется 1\u00a0141\u00a0балл.")
	run(t, tab, "redeem", chromedp.Click("#main"), chromedp.WaitVisible("#done"))
	waitText(t, tab, "#done", "Готово! Вы обменяли 170\u00a0баллов на «50 SMS». Осталось 1\u00a0141\u00a0балл.")
	run(t, tab, "home", chromedp.Click("#main"), chromedp.WaitVisible("#balance"))
	waitText(t, tab, "#balance", "1\u00a0141\u00a0балл")

	run(t, tab, "English", chromedp.Click(`[data-go="settings"]`), chromedp.WaitVisible(`[data-lang="en"]`), chromedp.Click(`[data-lang="en"]`))
	waitText(t, tab, "#title", "⚙️ Settings")
	run(t, tab, "home in English", chromedp.Click("#back"), chromedp.WaitVisible("#balance"))
	waitText(t, tab, "#balance", "1,141\u00a0points")

	if b, err := f.store.Balance(ctx, 1); err != nil || b.Points != 1141 {
		t.Errorf("ledger balance = %+v, %v; want 1141 after one redeem", b, err)
	}
}

// openTab opens a Chromium tab (width × height, dark or not, as tg's Telegram when tg is set) for the
// test, within limit; it closes when the test ends.
func openTab(t *testing.T, width, height int64, dark bool, tg *miniapptest.Telegram, limit time.Duration) context.Context {
	t.Helper()
	tab, cancel, err := miniapptest.Open(context.Background(), width, height, dark, tg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	tab, stop := context.WithTimeout(tab, limit)
	t.Cleanup(stop)
	return tab
}

func run(t *testing.T, tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// waitText waits until sel's text is want, and fails with what it was when the tab's time runs out.
func waitText(t *testing.T, tab context.Context, sel, want string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e !== null && e.textContent === %q; })()`, sel, want)
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js)); err != nil {
		got, _ := chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || "(no element)"`, sel)))
		if errors.Is(err, context.DeadlineExceeded) {
			err = errors.New("timed out")
		}
		t.Fatalf("%s: text = %q, want %q (%v)", sel, got, want, err)
	}
}

func count(t *testing.T, tab context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(tab, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A page left open past MINIAPP_MAX_AGE says so and asks to be reopened, without waiting for a tap.
func TestPageSaysWhenItsLaunchExpires(t *testing.T) {
	t.Parallel()
	if _, err := miniapptest.Chromium(); err != nil {
		t.Skipf("no browser on this machine, so the page is not tried in one: %v", err)
	}
	f := setup(t, Options{MaxAge: time.Hour})
	f.member(t, 501, "+79160000001", 10)
	// Valid for half a minute more: long enough for a loaded machine to open the page, short enough to
	// see it expire while open.
	signed := f.clock.Now().Add(-time.Hour + 30*time.Second)
	tg := &miniapptest.Telegram{InitData: signTelegram(testToken, telegramFields(`{"id":501,"language_code":"ru"}`, signed))}
	tab := openTab(t, 320, 640, true, tg, 120*time.Second)
	run(t, tab, "open", chromedp.Navigate(f.srv.URL+"/app/"), chromedp.WaitVisible("#balance"))
	run(t, tab, "expire", chromedp.WaitVisible("#fatal")) // the page counts the half minute down itself
	waitText(t, tab, "#fatal", "Страница открыта слишком давно. Закройте её и откройте снова из чата с ботом.")
}

// A user whose Telegram speaks Russian but who chose English in the chat sees the page in English
// throughout: its fixed words as well as the account's (they were Russian beside English titles).
func TestPageSpeaksTheAccountsLanguage(t *testing.T) {
	t.Parallel()
	if _, err := miniapptest.Chromium(); err != nil {
		t.Skipf("no browser on this machine, so the page is not tried in one: %v", err)
	}
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1261)
	if err := f.store.SetLanguage(ctx, "telegram", 501, "en"); err != nil {
		t.Fatal(err)
	}
	tg := &miniapptest.Telegram{InitData: signTelegram(testToken, telegramFields(`{"id":501,"language_code":"ru"}`, f.clock.Now().Add(-time.Minute)))}
	tab := openTab(t, 360, 740, false, tg, 60*time.Second)
	run(t, tab, "open", chromedp.Navigate(f.srv.URL+"/app/"), chromedp.WaitVisible("#balance"))
	waitText(t, tab, "#balance", "1,261\u00a0points")
	waitText(t, tab, "#title", "Bonus points")
	waitText(t, tab, `[data-go="catalog"]`, "🛍 Catalogue")
}

// Under VK the page tells VK it has started (VKWebAppInit, without which VK keeps its loading screen
// over the page), takes VK's dark scheme, and shows the account of the VK user the launch names.
func TestPageUnderVK(t *testing.T) {
	t.Parallel()
	if _, err := miniapptest.Chromium(); err != nil {
		t.Skipf("no browser on this machine, so the page is not tried in one: %v", err)
	}
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 1261)
	if _, err := f.store.Link(ctx, ledger.Link{Channel: "vk", UserID: 777, ChatID: 777, Phone: "+79160000001"}); err != nil {
		t.Fatal(err)
	}
	query := signVK(testVKSecret, url.Values{"vk_user_id": {"777"}, "vk_ts": {strconv.FormatInt(f.clock.Now().Add(-time.Minute).Unix(), 10)},
		"vk_language": {"ru"}, "vk_platform": {"mobile_android"}})
	tab := openTab(t, 360, 740, false, nil, 60*time.Second)
	if err := miniapptest.StubVKBridge(tab, "space_gray"); err != nil {
		t.Fatal(err)
	}
	run(t, tab, "open", chromedp.Navigate(f.srv.URL+"/app/?"+query), chromedp.WaitVisible("#balance"))
	waitText(t, tab, "#balance", "1\u00a0261\u00a0балл")
	sent, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.vkSent`))
	if err != nil || len(sent) == 0 || sent[0] != "VKWebAppInit" {
		t.Errorf("sent to VK %v (%v), want VKWebAppInit first", sent, err)
	}
	dark, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.documentElement.classList.contains('dark')`))
	if err != nil || !dark {
		t.Errorf("dark = %v (%v) under VK's space_gray scheme on a light system, want dark", dark, err)
	}
}
