package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

// demoState renders each demo account's phones, balance and lots.
func demoState(t *testing.T, store *ledger.Store) string {
	t.Helper()
	var b strings.Builder
	for _, sub := range demoSubscribers {
		acct, err := store.AccountByPhone(context.Background(), sub.phones[0])
		if err != nil {
			t.Fatal(err)
		}
		bal, err := store.Balance(context.Background(), acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		lots, err := store.Lots(context.Background(), acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%v balance=%d debt=%d lots=%v\n", acct.Phones, bal.Points, bal.Debt, lots)
	}
	return b.String()
}

func TestSeedDemoIdempotent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, ledgertest.Moscow)
	store := ledgertest.NewStore(t, ledgertest.NewClock(now), ledger.Options{})
	ctx := context.Background()
	first, err := seedDemo(ctx, store, now, io.Discard)
	if err != nil {
		t.Fatalf("first seed: %v", err)
	}
	state := demoState(t, store)
	second, err := seedDemo(ctx, store, now, io.Discard)
	if err != nil {
		t.Fatalf("second seed: %v", err)
	}
	if second.accepted != 0 || second.duplicates != first.accepted {
		t.Errorf("second seed added %d events and found %d, want 0 and %d", second.accepted, second.duplicates, first.accepted)
	}
	if again := demoState(t, store); again != state {
		t.Errorf("second seed changed the demo accounts:\n%s\nwas:\n%s", again, state)
	}
	if first.items != 14 {
		t.Errorf("catalogue items = %d, want 14", first.items)
	}
	for code, cost := range map[string]int64{"22": 170, "23": 300} {
		if it, err := store.Item(ctx, code); err != nil || it.Cost != cost {
			t.Errorf("Item(%s) = %+v, %v; want cost %d", code, it, err, cost)
		}
	}
	for _, sub := range demoSubscribers {
		acct, err := store.AccountByPhone(ctx, sub.phones[len(sub.phones)-1])
		if err != nil {
			t.Fatal(err)
		}
		if len(acct.Phones) != len(sub.phones) {
			t.Errorf("account of %s has phones %v, want %v", sub.phones[0], acct.Phones, sub.phones)
		}
		burns, err := store.Forecast(ctx, acct.ID, 90)
		if err != nil {
			t.Fatal(err)
		}
		ops, err := store.History(ctx, acct.ID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(burns) == 0 || len(ops) < 12 {
			t.Errorf("%s: %d burns within 90 days and %d operations, want some burns and a year of history", sub.phones[0], len(burns), len(ops))
		}
	}
	ledgertest.CheckInvariants(t, store.Pool())
}

func TestImportCatalog(t *testing.T) {
	t.Parallel()
	store := ledgertest.NewStore(t, nil, ledger.Options{})
	csv := "code,category,title_ru,title_en,cost,stock,active\n" +
		"22,sms,50 SMS,50 SMS,170,,true\n" +
		"23,sms,100 SMS,100 SMS,zero,,true\n" +
		"24,sms,,200 SMS,500,,\n" +
		"25,sms,1 SMS,1 SMS,1,-1,\n" +
		"26,sms,2 SMS,2 SMS,2,,maybe\n" +
		"22,sms,50 SMS again,50 SMS again,1,,\n" +
		"27,sms,3 SMS\n" +
		"63,partners,Модем,Modem,21000,20,no\n"
	var out strings.Builder
	sum, err := importCatalog(context.Background(), store, strings.NewReader(csv), &out)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range sum.Rejected {
		line, _, _ := strings.Cut(r, ":")
		lines = append(lines, line)
	}
	if got, want := strings.Join(lines, ","), "line 3,line 4,line 5,line 6,line 7,line 8"; got != want || sum.Items != 2 {
		t.Errorf("importCatalog: %d items, rejected %q; want 2 items, rejected %q\n%s", sum.Items, got, want, out.String())
	}
	modem, err := store.Item(context.Background(), "63")
	if err != nil || modem.Active || modem.Stock == nil || *modem.Stock != 20 {
		t.Errorf("Item(63) = %+v, %v; want inactive with stock 20", modem, err)
	}
}
