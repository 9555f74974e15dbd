// Package miniapp is the Mini App channel: a page served at /app/ inside Telegram (and VK), and the
// JSON API under /api/miniapp/ that the page calls. Every API request carries the platform's signed
// launch data; the page shows what the bot shows, over the same ledger, links, one-time codes and
// limits (it drives the dialogs Engine's actions), in words that all come from locales/.
package miniapp

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Engine is what the page does through the dialogs (*dialogs.Engine).
type Engine interface {
	Account(ctx context.Context, v dialogs.Visitor) (ledger.Link, error)
	StartLink(ctx context.Context, v dialogs.Visitor, phone string) error
	ConfirmLink(ctx context.Context, v dialogs.Visitor, code string) (ledger.Link, error)
	PlanGift(ctx context.Context, v dialogs.Visitor, l ledger.Link, phone, amount string) (dialogs.GiftPlan, error)
	Gift(ctx context.Context, v dialogs.Visitor, l ledger.Link, phone string, points int64, key string) (ledger.GiftReceipt, error)
	Redeem(ctx context.Context, v dialogs.Visitor, l ledger.Link, code string, cost int64, key string) (ledger.Order, ledger.Item, error)
	SetLanguage(ctx context.Context, v dialogs.Visitor, lang string) error
}

// Ledger is what the page reads of the points (*ledger.Store).
type Ledger interface {
	Account(ctx context.Context, id int64) (ledger.Account, error)
	Balance(ctx context.Context, accountID int64) (ledger.Balance, error)
	Forecast(ctx context.Context, accountID int64, days int) ([]ledger.Burn, error)
	History(ctx context.Context, accountID, beforeTx int64, limit int) ([]ledger.Operation, error)
	Catalog(ctx context.Context) ([]ledger.Item, error)
	LocalDate(t time.Time) time.Time
	Link(ctx context.Context, l ledger.Link) (ledger.Link, error) // MINIAPP_DEV only
}

// Texts words the page (*locales.Catalog).
type Texts interface {
	Render(lang string, t dialogs.Text) string
	Say(lang string, lines []dialogs.Text) string
	Strings(lang string, prefixes ...string) map[string]string
}

// Options configure the Mini App. Zero values take the defaults in brackets.
type Options struct {
	BotToken string        // verifies Telegram's initData; empty: Telegram launches are refused
	VKSecret string        // verifies VK launch parameters; empty: VK launches are refused
	MaxAge   time.Duration // launch data older than this is refused (1 h)
	Rate     int           // API requests a user may make a minute (120)
	Dev      bool          // MINIAPP_DEV: "dev <phone>" opens the page as that member, no signature
	Prefix   string        // Redis key prefix
	Now      func() time.Time
}

// MaxBody bounds a request body.
const MaxBody = 1 << 20

//go:embed static
var static embed.FS

// Handler serves the page at /app/ and its API at /api/miniapp/.
type Handler struct {
	engine  Engine
	ledger  Ledger
	texts   Texts
	limiter *redis_rate.Limiter
	log     *slog.Logger
	opts    Options
	mux     *http.ServeMux
	devOnce sync.Map // phones linked for MINIAPP_DEV in this process
}

// New returns the Mini App handler.
func New(engine Engine, l Ledger, texts Texts, rdb redis.UniversalClient, log *slog.Logger, opts Options) *Handler {
	if opts.MaxAge == 0 {
		opts.MaxAge = time.Hour
	}
	if opts.Rate == 0 {
		opts.Rate = 120
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{engine: engine, ledger: l, texts: texts, limiter: redis_rate.NewLimiter(rdb), log: log, opts: opts,
		mux: http.NewServeMux()}
	page, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h.mux.Handle("GET /app/", http.StripPrefix("/app/", noCache(http.FileServerFS(page))))
	h.mux.Handle("GET /app", http.RedirectHandler("/app/", http.StatusMovedPermanently))
	h.mux.HandleFunc("GET /api/miniapp/strings", h.getStrings)
	h.mux.HandleFunc("GET /api/miniapp/me", h.member(h.getMe))
	h.mux.HandleFunc("GET /api/miniapp/forecast", h.member(h.getForecast))
	h.mux.HandleFunc("GET /api/miniapp/history", h.member(h.getHistory))
	h.mux.HandleFunc("GET /api/miniapp/catalog", h.member(h.getCatalog))
	h.mux.HandleFunc("POST /api/miniapp/redeem", h.member(h.postRedeem))
	h.mux.HandleFunc("POST /api/miniapp/gift/check", h.member(h.postGiftCheck))
	h.mux.HandleFunc("POST /api/miniapp/gift", h.member(h.postGift))
	h.mux.HandleFunc("POST /api/miniapp/link/start", h.visitor(h.postLinkStart))
	h.mux.HandleFunc("POST /api/miniapp/link/confirm", h.visitor(h.postLinkConfirm))
	h.mux.HandleFunc("POST /api/miniapp/language", h.visitor(h.postLanguage))
	h.mux.HandleFunc("/api/miniapp/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, "ru", http.StatusNotFound, "not_found", "app.error.not_found")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// noCache makes browsers revalidate the page's files: they change with every release and are small.
func noCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
