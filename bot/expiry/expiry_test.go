package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/bot/notify"
	"bonusbot/dialogs"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/dialogs/metrics"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
	"bonusbot/locales"
)

var ctx = context.Background()

// chat is a fake Telegram: it keeps what each chat got.
type chat struct {
	mu   sync.Mutex
	got  map[int64][]sent
	fail bool
}

type sent struct {
	lang string
	out  dialogs.Output
}

func (c *chat) SendOutput(_ context.Context, chatID int64, lang string, o dialogs.Output) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("telegram: 502 Bad Gateway")
	}
	c.got[chatID] = append(c.got[chatID], sent{lang, o})
	return nil
}

func (c *chat) Notify(context.Context, int64, string) error { return errors.New("want SendOutput") }

func (c *chat) messages(chatID int64) []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[chatID]
}

type bundle struct {
	pool  *pgxpool.Pool
	store *ledger.Store
	clock *ledgertest.Clock
	chat  *chat
	sms   *dialogstest.SMS
	x     *Expiry
	log   *slog.Logger
}

// setup is a ledger at noon, Moscow, 14 March 2026, and the expiry jobs over it with warnings on,
// SMS warnings on, and hours 10:00–20:00.
func setup(t *testing.T) *bundle {
	t.Helper()
	clock := ledgertest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, ledgertest.Moscow))
	pool := ledgertest.NewPool(t)
	if err := notify.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow, Now: clock.Now})
	texts, err := locales.New(ledgertest.Moscow, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	hours, _ := dialogs.ParseHours("10:00-20:00")
	b := &bundle{pool: pool, store: store, clock: clock, chat: &chat{got: map[int64][]sent{}}, sms: &dialogstest.SMS{},
		log: slog.New(slog.NewTextHandler(tWriter{t}, nil))}
	b.x = New(store, map[string]notify.Chat{"telegram": b.chat}, b.sms, texts, b.log,
		Options{Warnings: true, SMS: true, Hours: hours, Now: clock.Now})
	return b
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// replica starts a River client working the expiry jobs (no schedules: tests insert what a leader would).
func (b *bundle) replica(t *testing.T) *notify.Client {
	t.Helper()
	j := b.x.Jobs()
	c, err := notify.NewClient(b.pool, nil, b.log, notify.Jobs{Add: j.Add, Queues: j.Queues})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := c.Stop(stop); err != nil {
			t.Error(err)
		}
	})
	return c
}

// member enrols phone with points expiring on the local date burn (earned a year before), linked to
// Telegram user chat (0: no chat) in lang.
func (b *bundle) member(t *testing.T, phone string, points int64, burn time.Time, chat int64, lang string) int64 {
	t.Helper()
	ev := ledger.Event{ID: fmt.Sprint(phone, burn), Phone: phone, Category: "referral", Points: &points,
		OccurredAt: time.Date(burn.Year()-1, burn.Month(), burn.Day(), 12, 0, 0, 0, ledgertest.Moscow)}
	r, err := b.store.Accrue(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if chat != 0 {
		if _, err := b.store.Link(ctx, ledger.Link{Channel: "telegram", UserID: chat, ChatID: chat, Phone: phone, Language: lang}); err != nil {
			t.Fatal(err)
		}
	}
	return r.AccountID
}

// waitIdle waits until River has no job left to work.
func (b *bundle) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending, done int
		err := b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')),
			count(*) FILTER (WHERE state = 'completed') FROM river_job`).Scan(&pending, &done)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 && done > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("River still has %d jobs to work after 60 s", pending)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

func day(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }

// TestWarningsOnTwoReplicas: two replicas work the day's plan (and a second plan, as if River's
// uniqueness had failed) at once; every member is warned once, in their language, where they can be
// reached.
func TestWarningsOnTwoReplicas(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79160000001", 200, day(21), 101, "ru") // week before a big burn
	b.member(t, "+79160000002", 60, day(30), 102, "en")  // weekly
	b.member(t, "+79160000003", 60, day(30), 0, "")      // no chat: SMS
	off := b.member(t, "+79160000004", 60, day(30), 104, "ru")
	b.member(t, "+79160000005", 60, day(30), 105, "ru") // on two chats
	if _, err := b.store.Link(ctx, ledger.Link{Channel: "telegram", UserID: 106, ChatID: 106, Phone: "+79160000005"}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.SetWarnings(ctx, off, false); err != nil {
		t.Fatal(err)
	}
	sentBefore := testutil.ToFloat64(metrics.Jobs.WithLabelValues("expiry_warning", "completed"))
	one, two := b.replica(t), b.replica(t)
	for _, c := range []*notify.Client{one, two} {
		if err := c.Insert(ctx, PlanArgs{Date: "2026-03-14"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := two.Insert(ctx, PlanArgs{Date: "2026-03-14 again"}); err != nil {
		t.Fatal(err)
	}
	b.waitIdle(t)

	for chatID, want := range map[int64]struct {
		lang, id string
	}{101: {"ru", "warn.week_before"}, 102: {"en", "warn.weekly"}, 105: {"ru", "warn.weekly"}, 106: {"ru", "warn.weekly"}} {
		got := b.chat.messages(chatID)
		if len(got) != 1 || got[0].lang != want.lang || got[0].out.Lines[0].ID != want.id || len(got[0].out.Buttons) != 2 {
			t.Errorf("chat %d got %+v, want one %s in %s with two rows of buttons", chatID, got, want.id, want.lang)
		}
	}
	if got := b.chat.messages(104); len(got) != 0 {
		t.Errorf("a member who turned warnings off got %+v", got)
	}
	if sms := b.sms.Sent(); len(sms) != 1 || sms[0].To != "+79160000003" {
		t.Errorf("sms = %+v, want one to the member without a chat", sms)
	}
	var plans int
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'expiry_warning_plan'`).Scan(&plans); err != nil || plans != 2 {
		t.Errorf("plan jobs = %d, %v; want 2 (one per distinct date key)", plans, err)
	}
	states := map[string]int{}
	rows, _ := b.pool.Query(ctx, `SELECT state || ':' || coalesce(channel, '') FROM expiry_warnings`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		states[s]++
	}
	if rows.Err() != nil || states["sent:telegram"] != 3 || states["sent:sms"] != 1 || len(states) != 2 {
		t.Errorf("warning states = %v, %v; want 3 sent by telegram, 1 by sms", states, rows.Err())
	}
	if got := testutil.ToFloat64(metrics.Jobs.WithLabelValues("expiry_warning", "completed")); got < sentBefore+4 {
		t.Errorf("completed expiry_warning jobs counted = %v, want at least %v", got, sentBefore+4)
	}
}

// work runs the send worker once on warning id, as River would.
func (b *bundle) work(id int64) error {
	job := &river.Job[WarnArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 5, Kind: WarnArgs{}.Kind()}, Args: WarnArgs{WarningID: id}}
	return (&warnWorker{x: b.x}).Work(ctx, job)
}

// planned plans today's warnings without River and returns the one for account.
func (b *bundle) planned(t *testing.T, account int64) int64 {
	t.Helper()
	var id int64
	_, err := b.store.PlanWarnings(ctx, ledger.WarningPlanRequest{Channels: []string{"telegram"}, SMS: true},
		func(_ context.Context, _ pgx.Tx, ws []ledger.Warning) error {
			for _, w := range ws {
				if w.AccountID == account {
					id = w.ID
				}
			}
			return nil
		})
	if err != nil || id == 0 {
		t.Fatalf("plan: %v, warning %d", err, id)
	}
	return id
}

func (b *bundle) state(t *testing.T, id int64) string {
	t.Helper()
	var s string
	if err := b.pool.QueryRow(ctx, `SELECT state FROM expiry_warnings WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWarningWaitsForHours: outside WARN_HOURS the send waits for their opening and touches nothing.
func TestWarningWaitsForHours(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.member(t, "+79160000001", 60, day(30), 101, "ru")
	id := b.planned(t, acct)
	b.clock.Set(time.Date(2026, 3, 14, 21, 30, 0, 0, ledgertest.Moscow))
	var snooze *rivertype.JobSnoozeError
	if err := b.work(id); !errors.As(err, &snooze) || snooze.Duration != 12*time.Hour+30*time.Minute {
		t.Fatalf("work at 21:30 = %v, want a snooze until 10:00 (12h30m)", err)
	}
	if s := b.state(t, id); s != "planned" || len(b.chat.messages(101)) != 0 {
		t.Errorf("after the snooze: state %s, messages %v", s, b.chat.messages(101))
	}
	b.clock.Set(time.Date(2026, 3, 15, 10, 0, 0, 0, ledgertest.Moscow))
	if err := b.work(id); err != nil || len(b.chat.messages(101)) != 1 || b.state(t, id) != "sent" {
		t.Errorf("work at 10:00 = %v, state %s, messages %d", err, b.state(t, id), len(b.chat.messages(101)))
	}
	if err := b.work(id); err != nil || len(b.chat.messages(101)) != 1 {
		t.Errorf("a repeated job = %v and %d messages; want no second message", err, len(b.chat.messages(101)))
	}
}

// TestWarningRetriesUntilDelivered: a send no channel took is retried; one that took is not resent.
func TestWarningRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.member(t, "+79160000003", 60, day(30), 0, "") // SMS only
	id := b.planned(t, acct)
	b.sms.Fail(true)
	if err := b.work(id); !errors.Is(err, errNotDelivered) || b.state(t, id) != "planned" {
		t.Fatalf("work with the gateway down = %v, state %s; want a retry, still planned", err, b.state(t, id))
	}
	b.sms.Fail(false)
	if err := b.work(id); err != nil || len(b.sms.Sent()) != 1 || b.state(t, id) != "sent" {
		t.Errorf("retry = %v, sms %d, state %s", err, len(b.sms.Sent()), b.state(t, id))
	}
	// Turned off between the plan and the send: skipped, not sent.
	acct2 := b.member(t, "+79160000001", 60, day(30), 101, "ru")
	b.clock.Set(time.Date(2026, 3, 21, 12, 0, 0, 0, ledgertest.Moscow)) // a week later: a new weekly warning
	id2 := b.planned(t, acct2)
	if err := b.store.SetWarnings(ctx, acct2, false); err != nil {
		t.Fatal(err)
	}
	if err := b.work(id2); err != nil || b.state(t, id2) != "skipped" || len(b.chat.messages(101)) != 0 {
		t.Errorf("warning to a member who turned them off since the plan = %v, state %s", err, b.state(t, id2))
	}
}

func TestDailyNext(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	msk := ledgertest.Moscow
	tests := []struct {
		d        daily
		from     time.Time
		want     time.Time
		describe string
	}{
		{daily{5 * time.Minute, msk}, time.Date(2026, 3, 14, 12, 0, 0, 0, msk), time.Date(2026, 3, 15, 0, 5, 0, 0, msk), "after today's run"},
		{daily{5 * time.Minute, msk}, time.Date(2026, 3, 14, 0, 1, 0, 0, msk), time.Date(2026, 3, 14, 0, 5, 0, 0, msk), "before today's run"},
		{daily{5 * time.Minute, msk}, time.Date(2026, 3, 14, 0, 5, 0, 0, msk), time.Date(2026, 3, 15, 0, 5, 0, 0, msk), "exactly at the run"},
		{daily{10 * time.Hour, berlin}, time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), time.Date(2026, 3, 29, 10, 0, 0, 0, berlin), "over the spring DST change"},
		{daily{5 * time.Minute, msk}, time.Date(2026, 12, 31, 21, 4, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 5, 0, 0, msk), "a UTC instant before Moscow's new year run"},
	}
	for _, tt := range tests {
		if got := tt.d.Next(tt.from); !got.Equal(tt.want) {
			t.Errorf("%s: Next(%v) = %v, want %v", tt.describe, tt.from, got, tt.want)
		}
	}
}

// TestSweepJobOncePerDate: two replicas, each inserting the day's sweep (and a second key, as if
// uniqueness failed), burn each point once and record the date once.
func TestSweepJobOncePerDate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79160000001", 100, day(14), 0, "")
	b.member(t, "+79160000002", 50, day(14), 0, "")
	b.clock.Set(time.Date(2026, 3, 15, 0, 5, 0, 0, ledgertest.Moscow))
	one, two := b.replica(t), b.replica(t)
	for _, c := range []*notify.Client{one, two} {
		if err := c.Insert(ctx, SweepArgs{Date: "2026-03-15"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := one.Insert(ctx, SweepArgs{Date: "2026-03-15 again"}); err != nil {
		t.Fatal(err)
	}
	b.waitIdle(t)
	var jobs int
	var burnt int64
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'expiry_sweep'`).Scan(&jobs); err != nil || jobs != 2 {
		t.Errorf("sweep jobs = %d, %v; want 2 (one per distinct key)", jobs, err)
	}
	if err := b.pool.QueryRow(ctx, `SELECT coalesce(sum(points), 0) FROM journal_entries WHERE book = 'expiry'`).Scan(&burnt); err != nil || burnt != 150 {
		t.Errorf("points burnt = %d, %v; want 150, once", burnt, err)
	}
	last, ok, err := b.store.LastSweep(ctx)
	if err != nil || !ok || !last.Date.Equal(day(15)) || last.Points != 150 {
		t.Errorf("LastSweep = %+v, %v, %v", last, ok, err)
	}
	ledgertest.CheckInvariants(t, b.pool)
}
