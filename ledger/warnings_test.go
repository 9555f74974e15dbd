package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"bonusbot/ledger"
)

// plan runs the plan at the clock's time and returns the chosen warnings by phone.
func (f fixture) plan(t *testing.T, req ledger.WarningPlanRequest) map[string]ledger.Warning {
	t.Helper()
	var got []ledger.Warning
	n, err := f.store.PlanWarnings(ctx, req, func(_ context.Context, _ pgx.Tx, ws []ledger.Warning) error {
		got = append(got, ws...)
		return nil
	})
	if err != nil || n != len(got) {
		t.Fatalf("PlanWarnings = %d, %v; the callback saw %d", n, err, len(got))
	}
	byPhone := map[string]ledger.Warning{}
	for _, w := range got {
		byPhone[f.phoneOf(t, w.AccountID)] = w
	}
	return byPhone
}

func (f fixture) phoneOf(t *testing.T, account int64) string {
	t.Helper()
	var phone string
	if err := f.store.Pool().QueryRow(ctx, `SELECT min(phone) FROM phones WHERE account_id = $1`, account).Scan(&phone); err != nil {
		t.Fatal(err)
	}
	return phone
}

func (f fixture) link(t *testing.T, phone string, user int64, active bool) {
	t.Helper()
	if _, err := f.store.Link(ctx, ledger.Link{Channel: "telegram", UserID: user, ChatID: user, Phone: phone}); err != nil {
		t.Fatal(err)
	}
	if !active {
		if err := f.store.SetActive(ctx, "telegram", user, false); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPlanWarnings walks the rules over two weeks (today is 14 March 2026, Moscow).
func TestPlanWarnings(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	// Points earned on D expire on D + 12 months.
	f.accrue(t, "big", "+79160000001", 100000, at(2025, 3, 21, 12, 0))                 // 200 burning 21 March: today + 7
	f.accrue(t, "small1", "+79160000002", 25000, at(2025, 3, 21, 12, 0))               // 50 burning 21 March
	f.accrue(t, "small2", "+79160000002", 15000, at(2025, 4, 1, 12, 0))                // and 30 on 1 April
	f.accrue(t, "far", "+79160000003", 100000, at(2025, 5, 20, 12, 0))                 // 20 May: beyond 30 days
	f.accrue(t, "later", "+79160000004", 75000, at(2025, 3, 24, 12, 0))                // 150 burning 24 March: today + 10
	f.accrue(t, "sms", "+79160000005", 50000, at(2025, 3, 30, 12, 0))                  // no chat at all
	off := f.accrue(t, "off", "+79160000006", 50000, at(2025, 3, 30, 12, 0)).AccountID // warnings turned off
	blocked := f.accrue(t, "blk", "+79160000007", 50000, at(2025, 3, 30, 12, 0)).AccountID
	f.accrue(t, "gone", "+79160000008", 50000, at(2025, 3, 30, 12, 0)) // blocked the bot
	for i, p := range []string{"+79160000001", "+79160000002", "+79160000003", "+79160000004", "+79160000006", "+79160000007"} {
		f.link(t, p, int64(100+i), true)
	}
	f.link(t, "+79160000008", 200, false)
	if err := f.store.SetWarnings(ctx, off, false); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetBlocked(ctx, blocked, true); err != nil {
		t.Fatal(err)
	}
	tg := ledger.WarningPlanRequest{Channels: []string{"telegram"}, Chunk: 3} // small chunks: several transactions

	type want struct {
		kind   string
		burnOn time.Time
		points int64
	}
	check := func(day string, got map[string]ledger.Warning, wants map[string]want) {
		t.Helper()
		for phone, w := range wants {
			g, ok := got[phone]
			if !ok || g.Kind != w.kind || !g.BurnOn.Equal(w.burnOn) || g.Points != w.points {
				t.Errorf("%s: %s got %+v, want %+v", day, phone, g, w)
			}
		}
		for phone, g := range got {
			if _, ok := wants[phone]; !ok {
				t.Errorf("%s: %s was warned (%+v), want not", day, phone, g)
			}
		}
	}
	check("14 March", f.plan(t, tg), map[string]want{
		"+79160000001": {ledger.WarnWeekBefore, date(2026, 3, 21), 200},
		"+79160000002": {ledger.WarnWeekly, date(2026, 3, 21), 80},
		"+79160000004": {ledger.WarnWeekly, date(2026, 3, 24), 150},
	})
	check("14 March again", f.plan(t, tg), nil)
	withSMS := tg
	withSMS.SMS = true
	check("14 March with SMS", f.plan(t, withSMS), map[string]want{
		"+79160000005": {ledger.WarnWeekly, date(2026, 3, 30), 100},
		"+79160000008": {ledger.WarnWeekly, date(2026, 3, 30), 100},
	})

	// 24 March is now today + 7 and the last warning was 3 days ago: not "within the last 3 days".
	f.clock.Set(at(2026, 3, 17, 10, 0))
	check("17 March", f.plan(t, tg), map[string]want{"+79160000004": {ledger.WarnWeekBefore, date(2026, 3, 24), 150}})
	f.clock.Set(at(2026, 3, 20, 10, 0))
	check("20 March", f.plan(t, tg), nil)
	// A week after the first: weekly again where points still burn within 30 days.
	f.clock.Set(at(2026, 3, 21, 10, 0))
	check("21 March", f.plan(t, tg), map[string]want{
		"+79160000001": {ledger.WarnWeekly, date(2026, 3, 21), 200},
		"+79160000002": {ledger.WarnWeekly, date(2026, 3, 21), 80},
	})

	// A failing callback rolls its chunk back: nothing is recorded, so the next plan chooses it again.
	f.clock.Set(at(2026, 3, 28, 10, 0))
	_, err := f.store.PlanWarnings(ctx, tg, func(context.Context, pgx.Tx, []ledger.Warning) error { return errors.New("river down") })
	if err == nil {
		t.Fatal("PlanWarnings with a failing callback succeeded")
	}
	check("28 March after a failed plan", f.plan(t, tg), map[string]want{"+79160000002": {ledger.WarnWeekly, date(2026, 4, 1), 30}})
}

// TestPlanWarningsConcurrently: two plans at once (two replicas) choose each warning once.
func TestPlanWarningsConcurrently(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	for i := range 20 {
		phone := "+791600001" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		f.accrue(t, phone, phone, 100000, at(2025, 3, 21, 12, 0))
		f.link(t, phone, int64(500+i), true)
	}
	req := ledger.WarningPlanRequest{Channels: []string{"telegram"}, Chunk: 4}
	counts := make(chan int, 2)
	for range 2 {
		go func() {
			n, err := f.store.PlanWarnings(ctx, req, func(context.Context, pgx.Tx, []ledger.Warning) error { return nil })
			if err != nil {
				t.Error(err)
			}
			counts <- n
		}()
	}
	if total := <-counts + <-counts; total != 20 {
		t.Errorf("two concurrent plans chose %d warnings, want 20 (one each)", total)
	}
}

func TestBeginAndFinishWarning(t *testing.T) {
	t.Parallel()
	f := setup(t, ledger.Options{})
	acct := f.accrue(t, "a", "+79160000001", 100000, at(2025, 3, 21, 12, 0)).AccountID // 200 on 21 March
	f.accrue(t, "b", "+79160000001", 20000, at(2025, 3, 16, 12, 0))                    // 40 on 16 March
	f.link(t, "+79160000001", 1, true)
	ws := f.plan(t, ledger.WarningPlanRequest{Channels: []string{"telegram"}})
	w := ws["+79160000001"]
	if w.Kind != ledger.WarnWeekBefore {
		t.Fatalf("plan = %+v", ws)
	}
	f.clock.Set(at(2026, 3, 14, 15, 0))
	n, ok, err := f.store.BeginWarning(ctx, w.ID)
	if err != nil || !ok {
		t.Fatalf("BeginWarning = %v, %v", ok, err)
	}
	if !n.Enabled || n.Soon != 240 || !n.Nearest.On.Equal(date(2026, 3, 16)) || n.Nearest.Points != 40 || n.Burn != 200 ||
		n.Phone != "+79160000001" || !n.Today.Equal(date(2026, 3, 14)) || n.AccountID != acct {
		t.Errorf("BeginWarning = %+v", n)
	}
	// A failed send goes back to planned and may begin again.
	if err := f.store.FinishWarning(ctx, w.ID, ledger.WarnPlanned, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetWarnings(ctx, acct, false); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := f.store.BeginWarning(ctx, w.ID); err != nil || !ok || n.Enabled {
		t.Errorf("BeginWarning after turning warnings off = %+v, %v, %v; want ok and not Enabled", n, ok, err)
	}
	// A send cut off (the process died while sending) is never sent again.
	if _, ok, err := f.store.BeginWarning(ctx, w.ID); err != nil || ok {
		t.Errorf("BeginWarning while sending = %v, %v; want not ok", ok, err)
	}
	var state string
	if err := f.store.Pool().QueryRow(ctx, `SELECT state FROM expiry_warnings WHERE id = $1`, w.ID).Scan(&state); err != nil || state != "in_doubt" {
		t.Errorf("state = %q, %v; want in_doubt", state, err)
	}
	if err := f.store.FinishWarning(ctx, w.ID, ledger.WarnSent, "telegram"); err == nil {
		t.Error("FinishWarning of a warning in doubt succeeded")
	}
	if err := f.store.SetWarnings(ctx, 999999, true); !errors.Is(err, ledger.ErrUnknownAccount) {
		t.Errorf("SetWarnings(unknown) = %v, want ErrUnknownAccount", err)
	}
	if on, err := f.store.WarningsOn(ctx, acct); err != nil || on {
		t.Errorf("WarningsOn = %v, %v; want off", on, err)
	}
}
