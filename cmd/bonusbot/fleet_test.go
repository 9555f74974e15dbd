package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5/pgxpool"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/bot/notify"
	"bonusbot/dialogs/dialogstest"
	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

// The fault tests run bonusbot as it runs in production: replicas are processes of this very test
// binary (TestMain below runs main() in them), so kill -9 kills a real process, and SIGTERM goes
// through main's signal handling. They talk to the fake Bot API of the test process.

var soak = flag.Bool("soak", false, "run the long fault tests (make soak)")

func TestMain(m *testing.M) {
	if os.Getenv("BONUSBOT_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fleet is a set of bonusbot replicas in webhook mode behind the fake Bot API, over one database and
// one Redis, and the traffic of users who each send msgs catalogue codes.
type fleet struct {
	t        *testing.T
	srv      *bottest.Server
	pool     *pgxpool.Pool
	env      []string
	dir      string
	replicas []*replica
	users    int
	msgs     int
	updates  map[int64]sent      // update id → what it was
	hooks    []string            // the replicas' webhook URLs, the load balancer's backends
	redis    *dialogstest.Server // the fleet's own Redis, unless it was given one
}

type sent struct {
	chat int64
	code int
}

type replica struct {
	name     string
	env      []string
	httpAddr string
	cmd      *exec.Cmd
	exited   chan error
	log      string
}

// fleetOptions shape a fleet: the database and Redis it uses (default: a database of its own on the
// shared server, and a redis-server of its own), and the traffic.
type fleetOptions struct {
	replicas    int
	users, msgs int
	databaseURL string
	redisURL    string
	duplicate   float64
}

const (
	fleetToken  = "123456:TEST"
	hookSecret  = "fleet-secret-0123456789"
	ingestToken = "fleet-ingest-token"
	firstCode   = 101
)

func newFleet(t *testing.T, o fleetOptions) *fleet {
	t.Helper()
	if o.databaseURL == "" {
		o.databaseURL = ownDatabase(t)
	}
	// Small pools: the shared server's connections are for every package's tests at once.
	o.databaseURL += "&pool_max_conns=6"
	f := &fleet{t: t, srv: bottest.New(t), dir: t.TempDir(), users: o.users, msgs: o.msgs, updates: map[int64]sent{}}
	if o.redisURL == "" {
		f.redis = dialogstest.NewServer(t)
		o.redisURL = f.redis.URL()
	}
	f.env = append(os.Environ(), "BONUSBOT_MAIN=1", "DATABASE_URL="+o.databaseURL, "REDIS_URL="+o.redisURL,
		"TELEGRAM_BOT_TOKEN="+fleetToken, "TELEGRAM_API_URL="+f.srv.URL, "BOT_MODE=webhook",
		"WEBHOOK_URL=https://bot.example/telegram", "WEBHOOK_SECRET="+hookSecret, "CODE_SECRET=fleet-code-secret-0123456789abcdef",
		"SMS_DEV_LOG=true", "BOT_GLOBAL_RATE=1000", "SHUTDOWN_GRACE=10s", "INGEST_TOKEN="+ingestToken)
	f.seed(o.databaseURL)
	for i := range o.replicas {
		r := &replica{name: fmt.Sprintf("replica%d", i), httpAddr: spareAddr(t), log: filepath.Join(f.dir, fmt.Sprintf("replica%d.log", i))}
		hookAddr := spareAddr(t)
		r.env = append(append([]string(nil), f.env...), "HTTP_ADDR="+r.httpAddr, "WEBHOOK_ADDR="+hookAddr)
		f.replicas = append(f.replicas, r)
		f.hooks = append(f.hooks, "http://"+hookAddr+"/telegram")
	}
	f.srv.DeliverWebhook(bottest.WebhookOptions{Backends: f.hooks, Duplicate: o.duplicate, Retry: time.Second, Seed: 7})
	for _, r := range f.replicas {
		f.start(r)
	}
	t.Cleanup(func() {
		for _, r := range f.replicas {
			r.kill()
		}
		if t.Failed() {
			for _, r := range f.replicas {
				b, _ := os.ReadFile(r.log)
				t.Logf("%s log (last 4 KB):\n%s", r.name, tail(b, 4096))
			}
		}
	})
	return f
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// ownDatabase is a database of the test's own on the shared server, dropped when t ends.
func ownDatabase(t *testing.T) string {
	u := strings.Replace(ledgertest.DatabaseURL(), "/bonusbot_test?", fmt.Sprintf("/bonusbot_fleet_%d_%d?", os.Getpid(), time.Now().UnixNano()), 1)
	t.Cleanup(func() {
		admin, err := ledger.Connect(context.Background(), ledgertest.DatabaseURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		name := u[strings.LastIndex(u, "/")+1 : strings.Index(u, "?")]
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	return u
}

func spareAddr(t *testing.T) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(dialogstest.SparePort(t)))
}

// seed migrates the database (before the replicas start, so they do not race to) and enrols every
// user, linked to Telegram, with points and a catalogue item per message.
func (f *fleet) seed(databaseURL string) {
	t, ctx := f.t, context.Background()
	pool, err := openMigrated(ctx, Config{DatabaseURL: databaseURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := notify.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	f.pool = pool
	store := ledger.NewStore(pool, ledger.Options{Location: ledgertest.Moscow})
	var items []ledger.Item
	for m := range f.msgs {
		code := fmt.Sprint(firstCode + m)
		items = append(items, ledger.Item{Code: code, Category: "partners", TitleRU: "Товар " + code, TitleEN: "Item " + code, Cost: 10, Active: true})
	}
	if err := store.UpsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	for u := range f.users {
		phone := fmt.Sprintf("+7916%07d", u)
		p := int64(1000)
		if _, err := store.Accrue(ctx, ledger.Event{ID: "seed" + phone, Phone: phone, Category: "referral", Points: &p,
			OccurredAt: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Link(ctx, ledger.Link{Channel: bot.Channel, UserID: f.chat(u), ChatID: f.chat(u), Phone: phone, Language: "ru"}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fleet) chat(u int) int64 { return int64(5000 + u) }

// start runs a replica and waits until it serves /healthz.
func (f *fleet) start(r *replica) {
	t := f.t
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(os.Args[0], "serve")
	r.cmd.Env, r.cmd.Stdout, r.cmd.Stderr = r.env, logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no replica outlives the test binary
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + r.httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-r.exited:
			b, _ := os.ReadFile(r.log)
			t.Fatalf("%s exited at start: %v\n%s", r.name, err, tail(b, 4096))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not serving /healthz within 2 minutes", r.name)
		}
	}
}

// kill is kill -9.
func (r *replica) kill() {
	if r.cmd == nil || r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// term sends SIGTERM and returns the exit status.
func (r *replica) term() error {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	err := <-r.exited
	r.cmd = nil
	return err
}

// send pushes the users' messages: message m of every user, then m+1…, so every chat has updates
// queued at once and the replicas interleave them.
func (f *fleet) send() {
	for m := range f.msgs {
		for u := range f.users {
			chat := f.chat(u)
			id := f.srv.Push(&models.Update{Message: &models.Message{Text: fmt.Sprint(firstCode + m), Date: int(time.Now().Unix()),
				From: &models.User{ID: chat, FirstName: "Test", LanguageCode: "ru"}, Chat: models.Chat{ID: chat, Type: models.ChatTypePrivate}}})
			f.updates[id] = sent{chat, firstCode + m}
		}
	}
}

// waitAnswered waits until Telegram has had a 2xx answer for n updates (all of them: n < 0).
func (f *fleet) waitAnswered(n int, within time.Duration) {
	f.t.Helper()
	if n < 0 {
		n = len(f.updates)
	}
	deadline := time.Now().Add(within)
	for {
		st := f.srv.WebhookStats()
		if st.Answered >= n && (n < len(f.updates) || st.Pending == 0) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d of %d updates answered within %v (%d pending)", st.Answered, n, within, st.Pending)
		}
		<-time.After(100 * time.Millisecond)
	}
}

// waitUnavailable waits until users have been told n times that the service is temporarily unavailable.
func (f *fleet) waitUnavailable(n int, within time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := 0
		for _, c := range f.srv.Calls("sendMessage") {
			if strings.Contains(c.Text, "временно недоступен") {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d 'temporarily unavailable' answers within %v, want %d", got, within, n)
		}
		<-time.After(100 * time.Millisecond)
	}
}

// checkIngested checks that the lots hold the seed and what billing sent, each batch once.
func (f *fleet) checkIngested(ingested int64) {
	f.t.Helper()
	var points int64
	if err := f.pool.QueryRow(context.Background(), "SELECT coalesce(sum(points), 0) FROM lots").Scan(&points); err != nil {
		f.t.Fatal(err)
	}
	if want := int64(f.users)*1000 + ingested; points != want {
		f.t.Errorf("lots hold %d points, want %d (the seed and every accrual once)", points, want)
	}
}

// outcome is what the users got.
type outcome struct {
	updates, dupDeliveries       int
	handledTwice                 int // an item card sent twice for one message
	outOfOrder                   int // chats whose cards came in another order than their messages
	unavailable                  int // "temporarily unavailable" answers
	other                        int // any other answer
	otherTexts                   []string
	lost                         int // messages that got neither their card nor an apology
	answeredLost                 int // updates Telegram was told were handled that got no card (kill test)
	answered, requests, failures int
	p50, p99                     time.Duration
}

var cardTitle = regexp.MustCompile(`«Товар (\d+)»`)

func (f *fleet) outcome() outcome {
	st := f.srv.WebhookStats()
	o := outcome{updates: len(f.updates), dupDeliveries: st.Duplicate, answered: st.Answered, requests: st.Sent, failures: st.Failed,
		p50: st.P50, p99: st.P99}
	cards := map[sent]int{}
	apologies := map[int64]int{}
	for _, c := range f.srv.Calls("sendMessage") {
		switch m := cardTitle.FindStringSubmatch(c.Text); {
		case m != nil:
			code, _ := strconv.Atoi(m[1])
			cards[sent{c.ChatID, code}]++
			if n := cards[sent{c.ChatID, code}]; n == 2 {
				o.handledTwice++
			}
		case strings.Contains(c.Text, "временно недоступен"):
			o.unavailable++
			apologies[c.ChatID]++
		case c.ChatID == 0 && c.Text == "":
			// A request cut off by kill -9 mid-body: the fake could not read it, and Telegram would
			// not have delivered it.
		default:
			o.other++
			if len(o.otherTexts) < 5 {
				o.otherTexts = append(o.otherTexts, c.Text)
			}
		}
	}
	byChat := map[int64][]int{}
	for _, c := range f.srv.Calls("sendMessage") {
		if m := cardTitle.FindStringSubmatch(c.Text); m != nil {
			code, _ := strconv.Atoi(m[1])
			byChat[c.ChatID] = append(byChat[c.ChatID], code)
		}
	}
	for _, codes := range byChat {
		for i := 1; i < len(codes); i++ {
			if codes[i] < codes[i-1] {
				o.outOfOrder++
				break
			}
		}
	}
	for u := range f.users {
		chat, got := f.chat(u), 0
		for m := range f.msgs {
			if cards[sent{chat, firstCode + m}] > 0 {
				got++
			}
		}
		o.lost += max(0, f.msgs-got-apologies[chat])
	}
	for id, s := range f.updates {
		if f.srv.Answered(id) && cards[s] == 0 && apologies[s.chat] == 0 {
			o.answeredLost++
		}
	}
	return o
}

func (o outcome) String() string {
	return fmt.Sprintf("%d updates (%d delivered twice on purpose; %d requests, %d failed; answered in p50 %v, p99 %v): handled twice %d, chats out of order %d, "+
		"lost %d (answered but lost %d), 'temporarily unavailable' %d, other answers %d %q",
		o.updates, o.dupDeliveries, o.requests, o.failures, o.p50.Round(time.Millisecond), o.p99.Round(time.Millisecond), o.handledTwice, o.outOfOrder, o.lost, o.answeredLost, o.unavailable, o.other, o.otherTexts)
}

// stop sends SIGTERM to every live replica: each must exit 0.
func (f *fleet) stop() {
	f.t.Helper()
	var wg sync.WaitGroup
	for _, r := range f.replicas {
		if r.cmd == nil {
			continue
		}
		wg.Go(func() {
			if err := r.term(); err != nil {
				f.t.Errorf("%s after SIGTERM: %v, want exit 0", r.name, err)
			}
		})
	}
	wg.Wait()
}

// ingest posts accrual batches to the replicas' ingest API, resending each (as billing does) until it
// is answered 200, and returns the points they carry; it runs until all batches are in.
func (f *fleet) ingest(ctx context.Context, batches, perBatch int) (int64, error) {
	var total int64
	for b := range batches {
		var events []map[string]any
		for e := range perBatch {
			events = append(events, map[string]any{"id": fmt.Sprintf("fleet-%d-%d", b, e), "phone": fmt.Sprintf("+7916%07d", (b*perBatch+e)%f.users),
				"category": "referral", "points": 7, "occurred_at": time.Now().UTC().Format(time.RFC3339)})
			total += 7
		}
		body, _ := json.Marshal(map[string]any{"events": events})
		for try := 0; ; try++ {
			r := f.replicas[(b+try)%len(f.replicas)]
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.httpAddr+"/api/v1/accruals", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+ingestToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if ctx.Err() != nil {
				return 0, errors.New("ingest: gave up")
			}
			<-time.After(200 * time.Millisecond)
		}
	}
	return total, nil
}
