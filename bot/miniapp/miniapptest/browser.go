// Package miniapptest drives the Mini App in a real headless Chromium (Debian's chromium) with
// chromedp: the browser test and `make screenshots` open the page the same way.
package miniapptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoChromium says the machine has no Chromium; .ci/run installs Debian's chromium.
var ErrNoChromium = errors.New("miniapptest: chromium not found (apt-get install chromium)")

// Chromium is the path of the browser.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Telegram is what the page sees as window.Telegram.WebApp when the test plays Telegram: the signed
// initData and the theme. Telegram's own script is never loaded here (the machine is offline), so the
// page must work from this alone.
type Telegram struct {
	InitData    string            `json:"initData"`
	ColorScheme string            `json:"colorScheme"`
	ThemeParams map[string]string `json:"themeParams"`
}

// Open starts a headless Chromium showing a phone-sized tab (width × height CSS pixels at 2×), with the
// system's colour scheme dark or light, and tg, when not nil, as window.Telegram.WebApp. The returned
// context is the tab; cancel closes the browser.
func Open(ctx context.Context, width, height int64, dark bool, tg *Telegram) (context.Context, context.CancelFunc, error) {
	path, err := Chromium()
	if err != nil {
		return nil, nil, err
	}
	// The flags keep a headless Chromium off the network it cannot reach here (it retries forever otherwise).
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	cancel := func() { cancelTab(); cancelAlloc() }
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(width, height, chromedp.EmulateScale(2))); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("miniapptest: viewport: %w", err)
	}
	if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("miniapptest: colour scheme: %w", err)
	}
	if tg != nil {
		stub, err := json.Marshal(tg)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		src := fmt.Sprintf(`window.Telegram = {WebApp: Object.assign(%s, {ready() {}, expand() {}, onEvent() {}})};`, stub)
		if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
			cancel()
			return nil, nil, fmt.Errorf("miniapptest: telegram stub: %w", err)
		}
	}
	return tab, cancel, nil
}

// StubVKBridge makes the tab's pages find window.vkBridge as VK's script provides it (the machine is
// offline): it records every method sent in window.vkSent and answers VKWebAppInit with
// VKWebAppUpdateConfig carrying scheme, as VK does. Call it before navigating.
func StubVKBridge(tab context.Context, scheme string) error {
	src := fmt.Sprintf(`window.vkSent = [];
window.vkBridge = {
  handlers: [],
  subscribe(f) { this.handlers.push(f); },
  send(method, params) {
    window.vkSent.push(method);
    if (method === 'VKWebAppInit') {
      setTimeout(() => this.handlers.forEach((f) => f({detail: {type: 'VKWebAppUpdateConfig', data: {scheme: %q}}})), 0);
    }
    return Promise.resolve({result: true});
  },
};`, scheme)
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		return fmt.Errorf("miniapptest: vk bridge stub: %w", err)
	}
	return nil
}
