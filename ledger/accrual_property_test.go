package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"pgregory.net/rapid"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

// The single path (Accrue, one event at a time) and the bulk paths (AccrueBatch, ImportAccruals) must
// write the same ledger and answer each event alike, whatever the events: random categories (one
// unknown), amounts or points (some over the caps), ids that repeat with the same content (replays)
// or other content (conflicts), within the batch or recorded before (some since expired), events too
// old or in the future, reversals (of known, unknown and reversed ids), accounts in debt and blocked
// accounts.
//
// Each check runs on two stores prepared alike, with phones and ids of its own, so the stores carry
// every earlier check too and their dumps stay comparable.

// accrualCase is one random check: a shared prologue that leaves accounts in debt or blocked and
// records some of the events under test earlier, then the events under test.
type accrualCase struct {
	prologue []ledger.Event
	earlier  []ledger.Event // applied by Accrue earlierBy before the test, before blocking
	blocked  []string       // phones whose accounts support blocks after the prologue
	events   []ledger.Event
}

// earlierBy is how long before the test the earlier events arrive: long enough that some of them have
// expired since, and a replay must still be a duplicate.
const earlierBy = 60 * 24 * time.Hour

var propertyCategories = []string{"mobile", "bank_card", "salon", "referral", "tv", "casino"}

// drawAccrualCase draws a case whose phones and ids carry prefix. With reversals false it draws only
// accruals, and an id that repeats keeps its phone (ImportAccruals does not define which of two
// phones wins an id, since it applies phones on parallel workers).
func drawAccrualCase(rt *rapid.T, prefix string, now time.Time, reversals bool) accrualCase {
	phones := make([]string, rapid.IntRange(1, 4).Draw(rt, "phones"))
	for i := range phones {
		phones[i] = phoneFor(prefix, i)
	}
	var c accrualCase
	// Debt: an accrual spent by a redemption, then reversed, leaves what the account no longer holds
	// as debt; later accruals pay it first.
	for i, p := range phones {
		if rapid.Bool().Draw(rt, "debt") {
			id := fmt.Sprintf("%s-pre%d", prefix, i)
			c.prologue = append(c.prologue,
				ledger.Event{ID: id, Phone: p, Category: "mobile", Amount: ptr(60000), OccurredAt: now.AddDate(0, -1, 0)},
				ledger.Event{ID: id + "-spend"}, // a redemption of 100 points, see applyPrologue
				ledger.Event{ID: id + "-rev", Reverses: id, OccurredAt: now.AddDate(0, 0, -1)})
		}
		if rapid.IntRange(0, 4).Draw(rt, "block") == 0 {
			c.prologue = append(c.prologue, ledger.Event{ID: fmt.Sprintf("%s-enrol%d", prefix, i), Phone: p, Category: "referral",
				OccurredAt: now.AddDate(0, 0, -2)})
			c.blocked = append(c.blocked, p)
		}
	}
	n := rapid.IntRange(1, 25).Draw(rt, "events")
	ids := make([]string, rapid.IntRange(1, n).Draw(rt, "ids"))
	idPhone := map[string]string{}
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-e%d", prefix, i)
	}
	for range n {
		id := rapid.SampledFrom(ids).Draw(rt, "id")
		if reversals && rapid.IntRange(0, 5).Draw(rt, "reversal") == 0 {
			target := rapid.SampledFrom(append(ids, prefix+"-nope", prefix+"-pre0")).Draw(rt, "reverses")
			c.events = append(c.events, ledger.Event{ID: id + "-r", Reverses: target,
				OccurredAt: now.Add(-time.Duration(rapid.IntRange(0, 48).Draw(rt, "rev hours")) * time.Hour)})
			continue
		}
		phone := rapid.SampledFrom(phones).Draw(rt, "phone")
		if p, ok := idPhone[id]; ok && !reversals {
			phone = p
		}
		idPhone[id] = phone
		ev := ledger.Event{ID: id, Phone: phone, Category: rapid.SampledFrom(propertyCategories).Draw(rt, "category"),
			// Mostly within the last 12 months, some born expired, some ahead of the clock.
			OccurredAt: now.Add(time.Duration(rapid.IntRange(-14*30*24, 2).Draw(rt, "hours")) * time.Hour)}
		switch rapid.IntRange(0, 9).Draw(rt, "award") {
		case 0:
			ev.Points = ptr(rapid.Int64Range(1, ledger.MaxEventPoints+1).Draw(rt, "points"))
		case 1: // a fixed award by the rule (referral), or a refusal for the others
		case 2:
			ev.Amount = ptr(rapid.Int64Range(0, ledger.MaxEventAmount+1).Draw(rt, "big amount"))
		default:
			ev.Amount = ptr(rapid.Int64Range(0, 200_000).Draw(rt, "amount"))
		}
		c.events = append(c.events, ev)
		switch rapid.IntRange(0, 5).Draw(rt, "earlier") {
		case 0: // the same event, recorded before: a replay
			c.earlier = append(c.earlier, ev)
		case 1: // the id recorded before with other content: a conflict
			other := ev
			other.Amount, other.Points = ptr(rapid.Int64Range(0, 10_000).Draw(rt, "other amount")), nil
			c.earlier = append(c.earlier, other)
		}
	}
	return c
}

// phoneFor is the i-th phone of a case: phones of one case share casePhones(prefix).
func phoneFor(prefix string, i int) string { return fmt.Sprintf("%s%02d", casePhones(prefix), i) }

func casePhones(prefix string) string {
	var h uint32
	for _, r := range prefix {
		h = h*31 + uint32(r)
	}
	return fmt.Sprintf("+7916%05d", h%100000)
}

// applyPrologue prepares the stores for a case, with the same calls on each so that they agree.
func applyPrologue(t *rapid.T, clock *ledgertest.Clock, stores []*ledger.Store, c accrualCase) {
	now := clock.Now()
	defer clock.Set(now)
	clock.Set(now.Add(-earlierBy))
	for _, store := range stores {
		for _, ev := range c.earlier {
			if _, err := store.Accrue(ctx, ev); err != nil && !ledger.IsRefusal(err) {
				t.Fatalf("earlier %s: %v", ev.ID, err)
			}
		}
	}
	clock.Set(now)
	for _, store := range stores {
		prologue(t, store, c)
	}
}

func prologue(t *rapid.T, store *ledger.Store, c accrualCase) {
	for _, ev := range c.prologue {
		if strings.HasSuffix(ev.ID, "-spend") {
			acct, err := store.AccountByPhone(ctx, phoneOfEvent(c.prologue, strings.TrimSuffix(ev.ID, "-spend")))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Redeem(ctx, ledger.RedeemRequest{AccountID: acct.ID, Code: "100"}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := store.Accrue(ctx, ev); err != nil {
			t.Fatalf("prologue %s: %v", ev.ID, err)
		}
	}
	for _, p := range c.blocked {
		acct, err := store.AccountByPhone(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetBlocked(ctx, acct.ID, true); err != nil {
			t.Fatal(err)
		}
	}
}

func phoneOfEvent(evs []ledger.Event, id string) string {
	for _, ev := range evs {
		if ev.ID == id {
			return ev.Phone
		}
	}
	return ""
}

// answer renders what an event got comparably across stores: the account named by its first phone.
func answer(t *rapid.T, store *ledger.Store, r ledger.AccrualResult, err error) string {
	if err != nil {
		for _, ref := range propertyRefusals {
			if errors.Is(err, ref) {
				return "refused: " + ref.Error()
			}
		}
		return "fault: " + err.Error()
	}
	acct, aerr := store.Account(ctx, r.AccountID)
	if aerr != nil {
		t.Fatalf("account %d of %+v: %v", r.AccountID, r, aerr)
	}
	return fmt.Sprintf("dup=%v account=%s points=%d debt=%d", r.Duplicate, acct.Phones[0], r.Points, r.Debt)
}

var propertyRefusals = []error{ledger.ErrInvalidEvent, ledger.ErrInvalidPhone, ledger.ErrInvalidAmount,
	ledger.ErrUnknownCategory, ledger.ErrEventConflict, ledger.ErrExpiredEvent, ledger.ErrUnknownEvent,
	ledger.ErrAlreadyReversed, ledger.ErrAccountBlocked}

// propertyStores are two stores prepared alike, on one clock.
func propertyStores(t *testing.T) (single, bulk *ledger.Store, clock *ledgertest.Clock) {
	clock = ledgertest.NewClock(importNow)
	single = ledgertest.NewStore(t, clock, ledger.Options{})
	bulk = ledgertest.NewStore(t, clock, ledger.Options{})
	for _, s := range []*ledger.Store{single, bulk} {
		if err := s.UpsertItems(ctx, []ledger.Item{{Code: "100", Category: "sms", TitleRU: "т", TitleEN: "t", Cost: 100, Active: true}}); err != nil {
			t.Fatal(err)
		}
	}
	return single, bulk, clock
}

// TestAccrueBatchMatchesAccrue: AccrueBatch answers and writes as Accrue does for the batch's accruals
// in order, then its reversals in order (AccrueBatch applies accruals first, so a batch may reverse an
// accrual it carries).
func TestAccrueBatchMatchesAccrue(t *testing.T) {
	t.Parallel()
	single, bulk, clock := propertyStores(t)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		c := drawAccrualCase(rt, fmt.Sprintf("b%d", n), clock.Now(), true)
		applyPrologue(rt, clock, []*ledger.Store{single, bulk}, c)
		want := make([]string, len(c.events))
		for _, reversals := range []bool{false, true} {
			for i, ev := range c.events {
				if (ev.Reverses != "") == reversals {
					r, err := single.Accrue(ctx, ev)
					want[i] = answer(rt, single, r, err)
				}
			}
		}
		results, errs, err := bulk.AccrueBatch(ctx, c.events)
		if err != nil {
			rt.Fatalf("AccrueBatch: %v", err)
		}
		for i := range c.events {
			if got := answer(rt, bulk, results[i], errs[i]); got != want[i] {
				rt.Errorf("event %d %+v: AccrueBatch = %s, Accrue = %s", i, c.events[i], got, want[i])
			}
		}
		compareLedgers(rt, single, bulk, fmt.Sprintf("b%d", n))
	})
}

// TestImportMatchesAccrueRandomly: ImportAccruals answers and writes as Accrue does, row by row, for
// random files of accruals.
func TestImportMatchesAccrueRandomly(t *testing.T) {
	t.Parallel()
	single, bulk, clock := propertyStores(t)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		c := drawAccrualCase(rt, fmt.Sprintf("i%d", n), clock.Now(), false)
		applyPrologue(rt, clock, []*ledger.Store{single, bulk}, c)
		var csv strings.Builder
		csv.WriteString(strings.Join(ledger.AccrualColumns, ",") + "\n")
		for _, ev := range c.events {
			amount, points := "", ""
			if ev.Amount != nil {
				amount = fmt.Sprintf("%d.%02d", *ev.Amount/100, *ev.Amount%100)
			}
			if ev.Points != nil {
				points = fmt.Sprint(*ev.Points)
			}
			fmt.Fprintf(&csv, "%s,%s,%s,%s,%s,%s\n", ev.ID, ev.Phone, ev.Category, amount, points, ev.OccurredAt.UTC().Format(time.RFC3339))
		}
		want := accrueCSV(rt, single, csv.String())
		got, err := bulk.ImportAccruals(context.Background(), strings.NewReader(csv.String()), nil)
		if err != nil {
			rt.Fatalf("ImportAccruals: %v", err)
		}
		if g, w := outcome(got), outcome(want); g != w {
			rt.Errorf("ImportAccruals summary:\n%s\nwant (Accrue):\n%s", g, w)
		}
		compareLedgers(rt, single, bulk, fmt.Sprintf("i%d", n))
	})
}

// compareLedgers fails t unless both stores hold the same ledger for the case's phones and ids, and
// both keep the invariants.
func compareLedgers(t *rapid.T, single, bulk *ledger.Store, prefix string) {
	if g, w := dumpCase(t, bulk.Pool(), prefix), dumpCase(t, single.Pool(), prefix); g != w {
		t.Fatalf("bulk path wrote:\n%s\n\nAccrue wrote:\n%s", diffLines(g, w), diffLines(w, g))
	}
	ledgertest.CheckInvariants(t, single.Pool())
	ledgertest.CheckInvariants(t, bulk.Pool())
}

// dumpCase renders, as dump does, what the ledger holds for the accounts of a case's phones and the
// events of its ids, so that a check costs the same however many came before it.
func dumpCase(t *rapid.T, pool *pgxpool.Pool, prefix string) string {
	// $1 the case's phones, $2 the prefix of its ids.
	accounts := `(SELECT account_id FROM phones WHERE phone LIKE $1 || '%' AND $2 <> '')`
	return dumpLedger(t, pool, accounts, `e.id LIKE $2 || '-%' OR e.account_id IN `+accounts, casePhones(prefix), prefix)
}

// diffLines is the lines of a that b lacks.
func diffLines(a, b string) string {
	have := map[string]int{}
	for _, l := range strings.Split(b, "\n") {
		have[l]++
	}
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if have[l] > 0 {
			have[l]--
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
