// Command appshots photographs the Mini App as a newcomer sees it: it migrates and seeds a database of
// its own with the demo, runs `bonusbot serve` with MINIAPP_DEV on a free port, opens the page in
// headless Chromium as a demo subscriber and writes the balance, forecast, catalogue and gift screens,
// light and dark, as PNG files. It also prints how many bytes the first render transferred.
//
//	go run ./cmd/appshots -bin bin/bonusbot -out docs/screenshots   (make screenshots)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"

	"bonusbot/bot/miniapp/miniapptest"
)

func main() {
	bin := flag.String("bin", "bin/bonusbot", "the bonusbot binary")
	out := flag.String("out", "docs/screenshots", "where the PNG files go")
	db := flag.String("db", "postgres://root@127.0.0.1:5432/bonusbot_screenshots?sslmode=disable", "a database of its own")
	phone := flag.String("as", "+79160000002", "the demo subscriber to show")
	// 320 CSS pixels: the narrowest phone the page promises to fit, so the pictures prove it.
	width := flag.Int64("width", 320, "the phone's width in CSS pixels")
	flag.Parse()
	if err := run(*bin, *out, *db, *phone, *width); err != nil {
		log.Fatal("appshots: ", err)
	}
}

func run(bin, out, db, phone string, width int64) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), "DATABASE_URL="+db, "HTTP_ADDR="+addr, "MINIAPP_DEV=1", "TELEGRAM_BOT_TOKEN=", "VK_APP_SECRET=", "BOT_MODE=off")
	for _, args := range [][]string{{"migrate"}, {"seed", "--demo"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stderr = env, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %v: %w", bin, args, err)
		}
	}
	serve := exec.Command(bin, "serve")
	serve.Env = env
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
	}()
	base := "http://" + addr
	if err := waitReady(base + "/readyz"); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, dark := range []bool{false, true} {
		if err := shoot(base+"/app/?dev_user="+phone, out, width, dark); err != nil {
			return err
		}
	}
	return nil
}

func waitReady(url string) error {
	for range 100 {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("serve did not become ready in 10 s")
}

// shoot takes the four screens in one colour scheme on a phone width CSS pixels wide (as tall as an
// iPhone 14 in proportion).
func shoot(url, out string, width int64, dark bool) error {
	tab, cancel, err := miniapptest.Open(context.Background(), width, 844*width/390, dark, nil)
	if err != nil {
		return err
	}
	defer cancel()
	tab, stop := context.WithTimeout(tab, 60*time.Second)
	defer stop()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	save := func(name string, ready ...chromedp.Action[chromedp.Void]) error {
		if err := chromedp.Do(tab, ready...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		file := filepath.Join(out, name+"-"+scheme+".png")
		fmt.Println(file)
		return os.WriteFile(file, png, 0o644)
	}
	if err := save("balance", chromedp.Navigate(url), chromedp.WaitVisible("#balance")); err != nil {
		return err
	}
	if !dark {
		// Resource Timing counts what the network carried for the page, its scripts, styles and API
		// answers; Telegram's script never loads here, so it is not in the sum.
		bytes, err := chromedp.Run(tab, chromedp.Evaluate[int](`performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
			.filter((e) => !e.name.includes('telegram.org')).reduce((n, e) => n + e.transferSize, 0)`))
		if err != nil {
			return err
		}
		fmt.Printf("first render transferred %d bytes (%.1f KB) without telegram-web-app.js\n", bytes, float64(bytes)/1024)
	}
	steps := []struct {
		name  string
		ready []chromedp.Action[chromedp.Void]
	}{
		{"forecast", []chromedp.Action[chromedp.Void]{chromedp.Click(`[data-go="forecast"]`), chromedp.WaitVisible("svg.chart")}},
		{"catalogue", []chromedp.Action[chromedp.Void]{chromedp.Click("#back"), chromedp.WaitVisible(`[data-go="catalog"]`),
			chromedp.Click(`[data-go="catalog"]`), chromedp.WaitVisible("#items .row")}},
		{"gift", []chromedp.Action[chromedp.Void]{chromedp.Click("#back"), chromedp.WaitVisible(`[data-go="gift"]`),
			chromedp.Click(`[data-go="gift"]`), chromedp.WaitVisible("#gift-phone"), chromedp.SendKeys("#gift-phone", "+7 916 000-00-01"),
			chromedp.SendKeys("#gift-points", "100 баллов"), chromedp.Click("#main"), chromedp.WaitVisible(".confirm")}},
	}
	for _, s := range steps {
		if err := save(s.name, s.ready...); err != nil {
			return err
		}
	}
	return nil
}
