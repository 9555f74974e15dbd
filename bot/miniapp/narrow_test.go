package miniapp

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bonusbot/bot/miniapp/miniapptest"
	"bonusbot/ledger"
)

// overflowJS lists what sticks out on the screen: an element whose right edge passes the window's, or
// whose text is wider than its box (clipped or spilling over its neighbour). The category chips are a
// row that scrolls sideways by design.
const overflowJS = `[...document.querySelectorAll('#bar *, #view *, #actions *')].filter((e) => {
	if (e.closest('.chips') || e.getClientRects().length === 0) return false;
	const r = e.getBoundingClientRect();
	return r.right > innerWidth + 0.5 || r.left < -0.5 || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1);
}).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.getAttribute('class') ? '.' + e.getAttribute('class') : '') + ' ' + JSON.stringify(e.textContent.slice(0, 30)))`

// chartJS is the smallest size, in CSS pixels, a number on the forecast chart is drawn at, and the
// numbers that do not end inside the chart.
const chartJS = `(() => {
	const svg = document.querySelector('svg.chart');
	const box = svg.getBoundingClientRect();
	const scale = box.width / svg.viewBox.baseVal.width;
	const nums = [...svg.querySelectorAll('text.num')];
	return {
		px: Math.min(...nums.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale)),
		out: nums.filter((t) => t.getBoundingClientRect().right > box.right + 0.5).map((t) => t.textContent),
	};
})()`

// TestPageFitsANarrowScreen opens the page on a 320 px phone in the dark theme, with a five-digit
// balance and a forecast whose biggest month has a five-digit number: nothing may be clipped or stick
// out, and the chart's numbers are drawn at 12 px or more.
func TestPageFitsANarrowScreen(t *testing.T) {
	t.Parallel()
	if _, err := miniapptest.Chromium(); err != nil {
		t.Skipf("no browser on this machine, so the page is not tried in one: %v", err)
	}
	f := setup(t, Options{})
	f.member(t, 501, "+79160000001", 5_712)
	f.member(t, 502, "+79160000002", 1)
	for i, pts := range []int64{10_617, 418} { // burn in January and February
		if _, err := f.store.Accrue(ctx, ledger.Event{ID: fmt.Sprint("old-", i), Phone: "+79160000001", Category: "mobile",
			Amount: ptr(pts * 500), OccurredAt: f.clock.Now().AddDate(0, -11+i, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.UpsertItems(ctx, []ledger.Item{{Code: "61", Category: "partners", TitleRU: "Скидка 2\u00a0000\u00a0₽ в Эльдорадо",
		TitleEN: "₽2,000 off at Eldorado", Cost: 1000, Active: true, HowToRU: "Назовите промокод на кассе Эльдорадо или введите его при заказе на сайте."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ImportPromoCodes(ctx, []ledger.PromoCode{{Item: "61", Code: "ELD-2000-1047"}}); err != nil {
		t.Fatal(err)
	}
	tg := &miniapptest.Telegram{ColorScheme: "dark",
		InitData: signTelegram(testToken, telegramFields(`{"id":501,"language_code":"ru"}`, f.clock.Now().Add(-time.Minute)))}
	tab := openTab(t, 320, 640, true, tg, 90*time.Second)

	run(t, tab, "open", chromedp.Navigate(f.srv.URL+"/app/"), chromedp.WaitVisible("#balance"))
	waitText(t, tab, "#balance", "16\u00a0747\u00a0баллов")
	noOverflow(t, tab, "balance")
	run(t, tab, "forecast", chromedp.Click(`[data-go="forecast"]`), chromedp.WaitVisible(`svg.chart rect.bar[data-month="2027-01"]`))
	noOverflow(t, tab, "forecast")
	type chartFit struct {
		PX  float64  `json:"px"`
		Out []string `json:"out"`
	}
	fit, err := chromedp.Run(tab, chromedp.Evaluate[chartFit](chartJS))
	if err != nil {
		t.Fatal(err)
	}
	if fit.PX < 12 || len(fit.Out) > 0 {
		t.Errorf("chart numbers drawn at %.1f px (want 12 or more), %q end outside the chart", fit.PX, fit.Out)
	}
	// A partner's promo code stays on one line.
	run(t, tab, "redeem", chromedp.Click("#back"), chromedp.WaitVisible(`[data-go="catalog"]`), chromedp.Click(`[data-go="catalog"]`),
		chromedp.WaitVisible(`.row[data-code="61"]`), chromedp.Click(`.row[data-code="61"]`), chromedp.WaitVisible(".confirm"),
		chromedp.Click("#main"), chromedp.WaitVisible("#done"))
	lines, err := chromedp.Run(tab, chromedp.Evaluate[int](`(() => { const c = document.querySelector('#done .code');
		return c && c.textContent === 'ELD-2000-1047' ? c.getClientRects().length : -1; })()`))
	if err != nil || lines != 1 {
		t.Errorf("promo code: %d lines (-1: not shown as a code), %v; want it on one line", lines, err)
	}
	noOverflow(t, tab, "redeemed")
	// The amount goes as typed: a fraction gets the chat's answer, «100 баллов» is 100.
	run(t, tab, "gift", chromedp.Click("#back"), chromedp.WaitVisible(`[data-go="gift"]`), chromedp.Click(`[data-go="gift"]`),
		chromedp.WaitVisible("#gift-phone"), chromedp.SendKeys("#gift-phone", "+7 916 000-00-02"), chromedp.SendKeys("#gift-points", "1,5"),
		chromedp.Click("#main"), chromedp.WaitVisible(".error"))
	waitText(t, tab, ".error", "Баллы дарят только целыми. Можно от 1 до 3\u00a0000.")
	noOverflow(t, tab, "gift")
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(document.querySelector('#gift-points').value = '') === ''`)); err != nil {
		t.Fatal(err)
	}
	run(t, tab, "gift as typed", chromedp.SendKeys("#gift-points", "100 баллов"),
		chromedp.Click("#main"), chromedp.WaitVisible(".confirm"))
	waitText(t, tab, ".confirm", "Подарить 100\u00a0баллов на номер +7 916 000-00-02? После подарка останется 15\u00a0647\u00a0баллов. Получатель увидит ваш номер.")
	noOverflow(t, tab, "gift confirmation")
}

func noOverflow(t *testing.T, tab context.Context, screen string) {
	t.Helper()
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]string](overflowJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 {
		t.Errorf("%s at 320 px: %q stick out or are clipped", screen, out)
	}
}
