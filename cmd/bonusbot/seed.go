package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"bonusbot/deploy/demo"
	"bonusbot/ledger"
)

// runSeed is `bonusbot seed --demo`. It is idempotent: a rerun finds everything in place.
func runSeed(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	withDemo := fs.Bool("demo", false, "load the demo catalogue and subscribers")
	if err := fs.Parse(args); err != nil || !*withDemo {
		return errUsage
	}
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := ledger.NewStore(pool, ledger.Options{Location: cfg.Location, Expiry: cfg.Expiry})
	sum, err := seedDemo(ctx, store, time.Now(), os.Stdout)
	if err != nil {
		return err
	}
	log.Info("demo loaded", "items", sum.items, "events_new", sum.accepted, "events_seen", sum.duplicates)
	return nil
}

// demoSubscriber is an account of the demo; the first phone holds it, the others joined it.
type demoSubscriber struct {
	phones []string
	bills  []demoBill
}

// demoBill is a billing event that recurs on day Day of every month of the past year (or only
// MonthsAgo months back, when set). Roubles varies a little from month to month, deterministically.
type demoBill struct {
	phone     string
	day       int
	category  string
	roubles   int64 // 0 for a fixed-award category
	monthsAgo int   // 0: every month; n: only n months back
}

// demoSubscribers are the README's demo numbers. Bills from 9–11 months ago expire within 90 days, so
// the forecast has something to show; the salon purchase makes a big burn for +79160000002.
var demoSubscribers = []demoSubscriber{
	{phones: []string{"+79160000001"}, bills: []demoBill{
		{"+79160000001", 3, "mobile", 650, 0},
		{"+79160000001", 10, "home_internet", 600, 0},
		{"+79160000001", 15, "referral", 0, 7},
	}},
	{phones: []string{"+79160000002"}, bills: []demoBill{
		{"+79160000002", 5, "mobile", 900, 0},
		{"+79160000002", 20, "bank_card", 12000, 0},
		{"+79160000002", 12, "salon", 29990, 10},
	}},
	{phones: []string{"+79160000003", "+79160000004"}, bills: []demoBill{
		{"+79160000003", 7, "mobile", 550, 0},
		{"+79160000004", 7, "mobile", 350, 0},
		{"+79160000003", 15, "tv", 400, 0},
	}},
}

type seedSummary struct {
	items, accepted, duplicates int
}

// seedDemo loads the catalogue through the catalogue import, the demo subscribers, a year of their
// accruals up to now, and one completed redemption. Event ids name the month (demo-<phone>-<yyyy-mm>-
// <category>), so a rerun in the same month only finds duplicates, and a rerun a month later adds that
// month's bills.
func seedDemo(ctx context.Context, store *ledger.Store, now time.Time, out io.Writer) (seedSummary, error) {
	var sum seedSummary
	cat, err := importCatalog(ctx, store, bytes.NewReader(demo.Catalog), out)
	if err != nil {
		return sum, fmt.Errorf("seed: %w", err)
	}
	if len(cat.Rejected) > 0 {
		return sum, fmt.Errorf("seed: demo catalogue has bad rows: %s", strings.Join(cat.Rejected, "; "))
	}
	sum.items = cat.Items
	if _, err := importPromoCodes(ctx, store, bytes.NewReader(demo.PromoCodes), out); err != nil {
		return sum, fmt.Errorf("seed: %w", err)
	}
	for _, sub := range demoSubscribers {
		for _, p := range sub.phones {
			owner := sub.phones[0]
			if p == owner {
				owner = ""
			}
			if _, err := store.Enrol(ctx, p, owner); err != nil {
				return sum, fmt.Errorf("seed: %w", err)
			}
		}
		for _, ev := range demoEvents(sub, now, store.Location()) {
			res, err := store.Accrue(ctx, ev)
			if errors.Is(err, ledger.ErrExpiredEvent) {
				continue // under POINTS_EXPIRY=calendar-year last year's bills have burnt already
			}
			if err != nil {
				return sum, fmt.Errorf("seed: %w", err)
			}
			if res.Duplicate {
				sum.duplicates++
			} else {
				sum.accepted++
			}
		}
	}
	if err := demoRedemption(ctx, store); err != nil {
		return sum, err
	}
	fmt.Fprintf(out, "demo: %d catalogue items; %d accrual events added, %d already there; subscribers %s\n",
		sum.items, sum.accepted, sum.duplicates, demoPhones())
	return sum, nil
}

// demoEvents are sub's bills for the 12 months up to now, skipping days still to come.
func demoEvents(sub demoSubscriber, now time.Time, loc *time.Location) []ledger.Event {
	local := now.In(loc)
	var events []ledger.Event
	for ago := 11; ago >= 0; ago-- {
		month := time.Date(local.Year(), local.Month()-time.Month(ago), 1, 0, 0, 0, 0, loc)
		for _, b := range sub.bills {
			if b.monthsAgo != 0 && b.monthsAgo != ago {
				continue
			}
			at := time.Date(month.Year(), month.Month(), b.day, 10, 0, 0, 0, loc)
			if at.After(now) {
				continue
			}
			ev := ledger.Event{
				ID:         fmt.Sprintf("demo-%s-%s-%s", strings.TrimPrefix(b.phone, "+"), month.Format("2006-01"), b.category),
				Phone:      b.phone,
				Category:   b.category,
				OccurredAt: at.UTC(),
			}
			if b.roubles > 0 {
				m := int64(month.Month())
				kopecks := (b.roubles+m*37%90)*100 + m*13%100 // deterministic wobble per calendar month
				ev.Amount = &kopecks
			}
			events = append(events, ev)
		}
	}
	return events
}

// demoRedemption gives +79160000002 a completed order for 50 SMS (code 22), once: the request key
// makes a rerun find the same order.
func demoRedemption(ctx context.Context, store *ledger.Store) error {
	acct, err := store.AccountByPhone(ctx, "+79160000002")
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	o, err := store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct.ID, Code: "22", Key: "demo-79160000002-sms"})
	if errors.Is(err, ledger.ErrInsufficientPoints) {
		return nil // too early in a fresh history to afford it; a later rerun will place it
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := store.CompleteOrder(ctx, o.ID); err != nil && !errors.Is(err, ledger.ErrOrderSettled) {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

func demoPhones() string {
	var all []string
	for _, sub := range demoSubscribers {
		all = append(all, strings.Join(sub.phones, " + "))
	}
	return strings.Join(all, ", ")
}
