package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"bonusbot/bot"
	"bonusbot/bot/bottest"
	"bonusbot/dialogs"
	"bonusbot/ledger"
	"bonusbot/locales"
)

func init() { subcommands["bot"] = runBotBench }

type botBenchConfig struct {
	databaseURL string
	redisURL    string
	users       int
	duration    time.Duration
	rate        int
	inFlight    int
}

// runBotBench is `bonusbench bot`: simulated users chat with the real bot through the fake Bot API
// (balance, catalogue browsing, forecast); then a bare echo bot on go-telegram/bot runs against the
// same fake server, and the ratio of the two throughputs is printed.
func runBotBench(ctx context.Context, args []string) error {
	var c botBenchConfig
	fs := flag.NewFlagSet("bonusbench bot", flag.ContinueOnError)
	fs.StringVar(&c.databaseURL, "db", "postgres://root@127.0.0.1:5432/bonusbot_botbench?sslmode=disable", "benchmark database (dropped and recreated)")
	fs.StringVar(&c.redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis (keys under a bench prefix, deleted afterwards)")
	fs.IntVar(&c.users, "users", 2000, "simulated users")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "length of each timed run")
	fs.IntVar(&c.rate, "rate", 500, "updates a second for the latency run")
	fs.IntVar(&c.inFlight, "inflight", 128, "updates the bot handles at once (bot.Options.MaxInFlight)")
	quick := fs.Bool("quick", false, "few users and short runs, to check the tool itself")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the bot's closed-loop run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		c.users, c.duration, c.rate = 200, 2*time.Second, 100
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pool, err := freshDatabase(ctx, c.databaseURL, 48)
	if err != nil {
		return err
	}
	defer pool.Close()
	opt, err := redis.ParseURL(c.redisURL)
	if err != nil {
		return err
	}
	opt.PoolSize = 64
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	prefix := fmt.Sprintf("bench:%d:", os.Getpid())
	defer deleteKeys(context.WithoutCancel(ctx), rdb, prefix)

	store := ledger.NewStore(pool, ledger.Options{})
	if err := seedBotBench(ctx, store, c.users); err != nil {
		return err
	}
	texts, err := locales.New(store.Location(), nil)
	if err != nil {
		return err
	}
	engine := dialogs.NewEngine(store, store, discardSMS{}, texts, rdb, log, dialogs.Options{Prefix: prefix, Location: store.Location()})

	var results []Result
	srv := bottest.NewServer()
	defer srv.Close()
	sim := newSimulation(srv, c.users)
	b, err := bot.New(ctx, engine, texts, engine, rdb, log, bot.Options{Token: srv.Token, ServerURL: srv.URL, Prefix: prefix,
		UserRate: 1 << 20, GlobalRate: 1 << 20, ChatBurst: 1 << 20, MaxInFlight: c.inFlight, PollTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(botCtx) }()

	echoSrv := bottest.NewServer()
	defer echoSrv.Close()
	echoSim := newSimulation(echoSrv, c.users)
	// The same HTTP client as the bot's, so the ratio compares the bots, not their connection pools.
	echo, err := tg.New(echoSrv.Token, tg.WithServerURL(echoSrv.URL), tg.WithDefaultHandler(echoHandler),
		tg.WithHTTPClient(5*time.Second, bot.NewHTTPClient(5*time.Second)))
	if err != nil {
		return err
	}
	echoDone := make(chan struct{})
	go func() { echo.Start(botCtx); close(echoDone) }()

	// The two closed loops alternate in slices, so background load on the machine hits both alike.
	const slices = 4
	fmt.Fprintf(os.Stderr, "bot and echo: %d users each, closed loops alternating for %s each…\n", c.users, c.duration)
	stopProfile, err := startProfile(*cpuProfile)
	if err != nil {
		return err
	}
	botRun, echoRun := &run{}, &run{}
	for range slices {
		botRun.merge(sim.closedLoop(ctx, c.duration/slices, botScript))
		echoRun.merge(echoSim.closedLoop(ctx, c.duration/slices, func(int, int) step { return step{text: "ping"} }))
	}
	stopProfile()
	results = append(results, botRun.result("bot closed loop", fmt.Sprintf("%d users", c.users)),
		echoRun.result("echo closed loop", "bare go-telegram/bot"))
	fmt.Fprintf(os.Stderr, "bot: open loop at %d updates/s for %s…\n", c.rate, c.duration)
	open := sim.openLoop(ctx, c.duration, c.rate, botScript)
	results = append(results, open.result(fmt.Sprintf("bot at %d updates/s", c.rate), "open loop"))
	live := sim.liveDialogs(ctx) // every user mid-gift: a live dialog each
	runtime.GC()
	rss := peakRSS()
	stopBot()
	if err := <-botDone; err != nil {
		return err
	}
	<-echoDone

	printTable(os.Stdout, results)
	fmt.Printf("\nbot's Bot API calls: %v\n", sim.calls)
	fmt.Printf("\n%d live dialogs; peak RSS %.0f MB of the whole benchmark process (target ≤ 150 MB)\n", live, rss)
	fmt.Printf("p99 at %d updates/s: %.2f ms (target ≤ 25 ms)\n", c.rate, open.lat.percentile(0.99))
	fmt.Printf("ratio bot/echo: %.2f (target ≥ 0.5)\n", botRun.perSecond()/echoRun.perSecond())
	return nil
}

func echoHandler(ctx context.Context, b *tg.Bot, u *models.Update) {
	if u.Message != nil {
		b.SendMessage(ctx, &tg.SendMessageParams{ChatID: u.Message.Chat.ID, Text: u.Message.Text})
	}
}

type discardSMS struct{}

func (discardSMS) Send(context.Context, string, string) error { return nil }

const benchUserBase = 1_000_000

func benchPhone(i int) string { return fmt.Sprintf("+7901%07d", i) }

// seedBotBench gives each simulated user an account with points, a Telegram link and a catalogue to browse.
func seedBotBench(ctx context.Context, store *ledger.Store, users int) error {
	items := []ledger.Item{}
	for i := range 12 {
		items = append(items, ledger.Item{Code: strconv.Itoa(20 + i), Category: []string{"communication", "internet", "partners"}[i%3],
			TitleRU: fmt.Sprintf("Награда %d", i), TitleEN: fmt.Sprintf("Reward %d", i), Cost: int64(100 + 50*i), Active: true})
	}
	if err := store.UpsertItems(ctx, items); err != nil {
		return err
	}
	errs := make(chan error, 16)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < users; i = int(next.Add(1)) - 1 {
				p := int64(500 + i%3000)
				phone := benchPhone(i)
				_, err := store.Accrue(ctx, ledger.Event{ID: "bench-" + phone, Phone: phone, Category: "referral", Points: &p,
					OccurredAt: time.Now().AddDate(0, -11, -i%60)})
				if err == nil {
					_, err = store.Link(ctx, ledger.Link{Channel: bot.Channel, UserID: int64(benchUserBase + i), ChatID: int64(benchUserBase + i), Phone: phone})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// step is one thing a simulated user does: a text or a button press on its last message.
type step struct {
	text string
	data string
}

// botScript is a user's round: balance, the catalogue, a category page, the forecast.
func botScript(_, round int) step {
	switch round % 4 {
	case 0:
		return step{text: "баланс"}
	case 1:
		return step{text: "/catalog"}
	case 2:
		return step{data: "1:cg:1:0"}
	}
	return step{text: "прогноз"}
}

// simulation drives users through the fake server and times each update to its first reply.
type simulation struct {
	calls   map[string]int // Bot API calls by method; read once the run is over
	srv     *bottest.Server
	users   []*simUser
	waiting []chan bottest.Call
}

type simUser struct {
	tu      *bottest.User
	round   int
	lastMsg int
	pending bool // an update whose reply the run stopped waiting for
}

func newSimulation(srv *bottest.Server, n int) *simulation {
	s := &simulation{srv: srv, waiting: make([]chan bottest.Call, n), calls: map[string]int{}}
	srv.Record = false
	for i := range n {
		s.users = append(s.users, &simUser{tu: srv.User(int64(benchUserBase+i), "ru")})
		s.waiting[i] = make(chan bottest.Call, 16)
	}
	srv.Hook = func(c bottest.Call) { // called by the fake server as each reply arrives
		s.calls[c.Method]++ // under the server's lock
		if c.Method != "sendMessage" && c.Method != "editMessageText" {
			return
		}
		if i := c.ChatID - benchUserBase; i >= 0 && i < int64(n) {
			select {
			case s.waiting[i] <- c:
			default:
			}
		}
	}
	return s
}

type run struct {
	count   atomic.Int64
	elapsed time.Duration
	lat     latencies
}

// merge adds another slice of the same run.
func (r *run) merge(o *run) {
	r.count.Add(o.count.Load())
	r.elapsed += o.elapsed
	o.lat.mu.Lock()
	r.lat.mu.Lock()
	r.lat.d = append(r.lat.d, o.lat.d...)
	r.lat.mu.Unlock()
	o.lat.mu.Unlock()
}

func (r *run) perSecond() float64 { return float64(r.count.Load()) / r.elapsed.Seconds() }

func (r *run) result(op, note string) Result {
	res := result(op, int(r.count.Load()), r.elapsed, &r.lat)
	res.Note = note
	return res
}

var errNoReply = errors.New("no reply within 10 s")

// turn sends user i's next step and waits for the reply.
func (s *simulation) turn(ctx context.Context, i int, script func(user, round int) step, r *run) error {
	u := s.users[i]
	st := script(i, u.round)
	u.round++
	t0 := time.Now()
	if st.data != "" {
		u.tu.Press(u.lastMsg, st.data)
	} else {
		u.tu.Say(st.text)
	}
	select {
	case c := <-s.waiting[i]:
		r.lat.add(time.Since(t0))
		r.count.Add(1)
		u.lastMsg = c.MessageID
		return nil
	case <-ctx.Done():
		u.pending = true
		return ctx.Err()
	case <-time.After(10 * time.Second):
		u.pending = true
		return errNoReply
	}
}

// settle waits for the replies a run stopped waiting for, so the next run starts with no backlog.
func (s *simulation) settle() {
	for i, u := range s.users {
		if u.pending {
			select {
			case c := <-s.waiting[i]:
				u.lastMsg = c.MessageID
			case <-time.After(30 * time.Second):
			}
			u.pending = false
		}
		for len(s.waiting[i]) > 0 {
			<-s.waiting[i]
		}
	}
}

// closedLoop has every user send, wait for the answer and send again, for d.
func (s *simulation) closedLoop(ctx context.Context, d time.Duration, script func(user, round int) step) *run {
	r := &run{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range s.users {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := s.turn(ctx, i, script, r); err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	s.settle()
	return r
}

// openLoop sends rate updates a second in total, spread over the users, each waiting for its answer
// before its next turn; latency is from each update to its answer.
func (s *simulation) openLoop(ctx context.Context, d time.Duration, rate int, script func(user, round int) step) *run {
	r := &run{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	period := time.Duration(float64(len(s.users)) / float64(rate) * float64(time.Second))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range s.users {
		wg.Go(func() {
			next := start.Add(time.Duration(rand.Int64N(int64(period))))
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				if err := s.turn(ctx, i, script, r); err != nil {
					return
				}
				next = next.Add(period)
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	s.settle()
	return r
}

// liveDialogs leaves every user in the middle of a gift (a dialog state each) and counts them.
func (s *simulation) liveDialogs(ctx context.Context) int {
	r := &run{}
	var wg sync.WaitGroup
	for i := range s.users {
		wg.Go(func() { s.turn(ctx, i, func(int, int) step { return step{text: "/gift"} }, r) })
	}
	wg.Wait()
	s.settle()
	return int(r.count.Load())
}

// startProfile starts a CPU profile into path ("" = none) and returns its stop.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// peakRSS is the process's peak resident set (VmHWM) in MB.
func peakRSS() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func deleteKeys(ctx context.Context, rdb *redis.Client, prefix string) {
	for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
		iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				rdb.Del(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	}
}
