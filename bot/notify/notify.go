// Package notify tells a gift's recipient about it: in a chat where the recipient is linked, else by
// SMS. The notice is a River job inserted in the gift's own transaction (OnGift), so it exists exactly
// when the gift does and survives a crash; River retries it until it is sent.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// GiftArgs is the job: who got how many points from whom.
type GiftArgs struct {
	GiftID    int64     `json:"gift_id"`
	ToAccount int64     `json:"to_account"`
	ToPhone   string    `json:"to_phone"`
	FromPhone string    `json:"from_phone"`
	Points    int64     `json:"points"`
	ExpiresOn time.Time `json:"expires_on,omitzero"` // the soonest date the gifted points burn
	// Lots are the gifted points by the date they burn, soonest first (notices inserted before they
	// were recorded have ExpiresOn alone).
	Lots []ledger.Lot `json:"lots,omitempty"`
}

// Kind names the job in River's table.
func (GiftArgs) Kind() string { return "gift_notice" }

// InsertOpts: one notice per gift even if a hook ran twice.
func (GiftArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Links finds where a recipient is linked (*ledger.Store).
type Links interface {
	LinksForAccount(ctx context.Context, accountID int64) ([]ledger.Link, error)
}

// Chat writes a text to a chat of one channel (the Telegram bot).
type Chat interface {
	Notify(ctx context.Context, chatID int64, text string) error
}

// TellChats calls send for each of links that is active on a channel chats serves, so a subscriber
// hears of something on every chat they linked; a send that fails is logged with what and does not
// stop the rest. It returns the channel of the last chat told ("" for none) and how many failed; a
// caller whose news must arrive falls back to SMS when none was told.
func TellChats(ctx context.Context, chats map[string]Chat, links []ledger.Link, send func(Chat, ledger.Link) error,
	log *slog.Logger, what string, attrs ...any) (told string, failed int) {
	for _, l := range links {
		chat, ok := chats[l.Channel]
		if !ok || !l.Active {
			continue
		}
		if err := send(chat, l); err != nil {
			log.WarnContext(ctx, what+" not delivered to chat", slices.Concat(attrs, []any{"channel", l.Channel, "chat_id", l.ChatID, "err", err})...)
			failed++
			continue
		}
		told = l.Channel
	}
	return told, failed
}

// Renderer words the notice.
type Renderer interface {
	Render(lang string, t dialogs.Text) string
}

// Worker sends gift notices.
type Worker struct {
	river.WorkerDefaults[GiftArgs]
	links Links
	chats map[string]Chat // by channel name
	sms   dialogs.SMS
	texts Renderer
	log   *slog.Logger
}

// NewWorker returns a Worker; chats maps channel names ("telegram") to their senders.
func NewWorker(links Links, chats map[string]Chat, sms dialogs.SMS, texts Renderer, log *slog.Logger) *Worker {
	return &Worker{links: links, chats: chats, sms: sms, texts: texts, log: log}
}

// Work tells every active linked chat of the recipient; with none, it sends an SMS.
func (w *Worker) Work(ctx context.Context, job *river.Job[GiftArgs]) error {
	a := job.Args
	links, err := w.links.LinksForAccount(ctx, a.ToAccount)
	if err != nil {
		return err
	}
	told, _ := TellChats(ctx, w.chats, links, func(chat Chat, l ledger.Link) error {
		return chat.Notify(ctx, l.ChatID, w.notice(l.Language, a, false))
	}, w.log, "gift notice", "gift_id", a.GiftID)
	if told != "" {
		return nil
	}
	return w.sms.Send(ctx, a.ToPhone, w.notice("ru", a, true))
}

// notice words a gift for its recipient in lang. The sender's number is shown in full, so the
// recipient knows who it is from (the sender was told so). In a chat every date the points burn on is
// named («50 баллов сгорят 10 января, 37 — 3 февраля»); an SMS names the nearest only, to stay within
// two segments.
func (w *Worker) notice(lang string, a GiftArgs, sms bool) string {
	lots := a.Lots
	if len(lots) == 0 && !a.ExpiresOn.IsZero() {
		lots = []ledger.Lot{{ExpiresOn: a.ExpiresOn, Points: a.Points}}
	}
	t := dialogs.T("notice.gift", "Points", a.Points, "Phone", ledger.FormatPhone(a.FromPhone))
	switch {
	case sms:
		t.ID = "sms.gift"
		if len(lots) > 0 {
			t.Args["On"] = lots[0].ExpiresOn
		}
	case len(lots) == 1:
		t.Args["Until"] = lots[0].ExpiresOn
	case len(lots) > 1:
		burns := make([]string, len(lots))
		for i, l := range lots {
			id := "notice.burn.next"
			if i == 0 {
				id = "notice.burn.first"
			}
			burns[i] = w.texts.Render(lang, dialogs.T(id, "Points", l.Points, "On", l.ExpiresOn))
		}
		t.Args["Burns"] = strings.Join(burns, ", ")
	}
	return w.texts.Render(lang, t)
}

// Migrate applies River's migrations (its job tables) in the pool's search_path schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("notify: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("notify: migrate: %w", err)
	}
	return nil
}

// Client is River for notices. With a Worker it works jobs after Start; without, it only inserts.
type Client struct {
	river *river.Client[pgx.Tx]
}

// Jobs are another part's River jobs, worked by the same client: one client per process, so River's
// one leader schedules every periodic job (a second client would compete for leadership).
type Jobs struct {
	Add      func(*river.Workers) // registers the part's workers
	Periodic []*river.PeriodicJob
	Queues   map[string]river.QueueConfig // the part's own queues, worked beside the default one
}

// NewClient returns a River client on pool working gift notices (w) and the jobs of other parts;
// with neither it only inserts.
func NewClient(pool *pgxpool.Pool, w *Worker, log *slog.Logger, more ...Jobs) (*Client, error) {
	cfg := &river.Config{Logger: log, Middleware: []rivertype.Middleware{&observer{}}}
	if w != nil || len(more) > 0 {
		workers := river.NewWorkers()
		if w != nil {
			river.AddWorker(workers, w)
		}
		for _, j := range more {
			j.Add(workers)
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, j.Periodic...)
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}
		for _, j := range more {
			maps.Copy(cfg.Queues, j.Queues)
		}
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Client{river: rc}, nil
}

// OnGift is ledger.Options.OnGift: it inserts the notice in the gift's transaction.
func (c *Client) OnGift(ctx context.Context, tx pgx.Tx, g ledger.GiftReceipt) error {
	args := GiftArgs{GiftID: g.ID, ToAccount: g.ToAccount, ToPhone: g.ToPhone, FromPhone: g.FromPhone, Points: g.Points,
		Lots: slices.SortedFunc(slices.Values(g.Lots), func(a, b ledger.Lot) int { return a.ExpiresOn.Compare(b.ExpiresOn) })}
	for _, l := range g.Lots {
		if args.ExpiresOn.IsZero() || l.ExpiresOn.Before(args.ExpiresOn) {
			args.ExpiresOn = l.ExpiresOn
		}
	}
	if _, err := c.river.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("notify: insert gift notice: %w", err)
	}
	return nil
}

// Insert adds a job outside any transaction (a test runs a sweep now).
func (c *Client) Insert(ctx context.Context, args river.JobArgs) error {
	if _, err := c.river.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("notify: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// Start works jobs until Stop.
func (c *Client) Start(ctx context.Context) error { return c.river.Start(ctx) }

// Stop waits for jobs in hand, up to ctx's deadline.
func (c *Client) Stop(ctx context.Context) error {
	err := c.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("notify: stop: jobs still running: %w", err)
	}
	return err
}
