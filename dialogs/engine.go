package dialogs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
)

// Ledger is what the dialogs need of the points ledger (*ledger.Store).
type Ledger interface {
	AccountByPhone(ctx context.Context, phone string) (ledger.Account, error)
	Account(ctx context.Context, id int64) (ledger.Account, error)
	Enrol(ctx context.Context, phone, accountOf string) (ledger.Account, error)
	Balance(ctx context.Context, accountID int64) (ledger.Balance, error)
	Forecast(ctx context.Context, accountID int64, days int) ([]ledger.Burn, error)
	History(ctx context.Context, accountID, beforeTx int64, limit int) ([]ledger.Operation, error)
	HistoryNewer(ctx context.Context, accountID, afterTx int64, limit int) ([]ledger.Operation, error)
	Catalog(ctx context.Context) ([]ledger.Item, error)
	Item(ctx context.Context, code string) (ledger.Item, error)
	Redeem(ctx context.Context, req ledger.RedeemRequest) (ledger.Order, error)
	OrderByKey(ctx context.Context, key string) (ledger.Order, error)
	Gift(ctx context.Context, g ledger.GiftRequest) (ledger.GiftReceipt, error)
	GiftKeyUsed(ctx context.Context, key string) (bool, error)
	CheckGift(ctx context.Context, from, to int64) error
	WarningsLedger
}

// Links is where channel users are linked to accounts (*ledger.Store).
type Links interface {
	Link(ctx context.Context, l ledger.Link) (ledger.Link, error)
	Unlink(ctx context.Context, channel string, userID int64) error
	LinkedAccount(ctx context.Context, channel string, userID int64) (ledger.Link, error)
	SetLanguage(ctx context.Context, channel string, userID int64, lang string) error
	SetActive(ctx context.Context, channel string, userID int64, active bool) error
}

// SMS sends a text to a phone (E.164). An error means it was not sent.
type SMS interface {
	Send(ctx context.Context, to, text string) error
}

// Renderer turns a Text into words in lang; the Engine needs it only for SMS.
type Renderer interface {
	Render(lang string, t Text) string
}

// Options tune the Engine. Zero values take the programme's rules.
type Options struct {
	Prefix       string           // Redis key prefix; tests give each its own
	DialogTTL    time.Duration    // a dialog left alone this long starts over (15 min)
	Location     *time.Location   // the local day of the gift-probing limit (Moscow)
	Now          func() time.Time // injectable clock
	CodeTTL      time.Duration    // a one-time code is valid this long (5 min)
	CodeTries    int              // wrong tries before a code dies and its owner waits LockFor for that phone (5)
	LockFor      time.Duration    // (15 min)
	ResendAfter  time.Duration    // (60 s)
	CodesPerHour int              // per phone and per channel user (5)
	CodesPerDay  int              // per phone (10)
	// NewPhoneCodesPerDay bounds codes a user may have sent to numbers that are not members yet (3).
	NewPhoneCodesPerDay int
	WrongCodesPerDay    int            // wrong codes a user may type a day, over all phones (20)
	PhonePrefixes       []string       // codes go only to numbers starting so (the operator's range: +79)
	CodeSecret          []byte         // keys the codes' HMAC; empty: random for this process (development)
	ProbesPerDay        int            // lookups of non-members before gifting pauses for the day (5)
	Support             SupportOptions // the human support relay; zero: /support only says how to reach support
	AppCommand          bool           // the channel offers /app (MINIAPP_URL is set), so help mentions it
}

func (o *Options) defaults() {
	o.DialogTTL = cmpOr(o.DialogTTL, 15*time.Minute)
	o.CodeTTL = cmpOr(o.CodeTTL, 5*time.Minute)
	o.LockFor = cmpOr(o.LockFor, 15*time.Minute)
	o.ResendAfter = cmpOr(o.ResendAfter, time.Minute)
	o.CodeTries = cmpOr(o.CodeTries, 5)
	o.CodesPerHour = cmpOr(o.CodesPerHour, 5)
	o.CodesPerDay = cmpOr(o.CodesPerDay, 10)
	o.NewPhoneCodesPerDay = cmpOr(o.NewPhoneCodesPerDay, 3)
	o.WrongCodesPerDay = cmpOr(o.WrongCodesPerDay, 20)
	if len(o.PhonePrefixes) == 0 {
		o.PhonePrefixes = []string{"+79"}
	}
	if len(o.CodeSecret) == 0 {
		o.CodeSecret = make([]byte, 32)
		rand.Read(o.CodeSecret) // never fails
	}
	o.ProbesPerDay = cmpOr(o.ProbesPerDay, 5)
	o.Support.Idle = cmpOr(o.Support.Idle, 24*time.Hour)
	if o.Location == nil {
		o.Location = time.FixedZone("MSK", 3*3600)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Engine runs dialogs: it loads the State, calls the pure steps, runs their effects and saves the State.
// Calls for one channel user must not overlap (the channel serializes each chat).
type Engine struct {
	ledger  Ledger
	links   Links
	sms     SMS
	texts   Renderer
	rdb     redis.UniversalClient
	limiter *redis_rate.Limiter
	log     *slog.Logger
	opts    Options
	cache   caches
	labels  menuLabels
}

// NewEngine returns an Engine.
func NewEngine(l Ledger, links Links, sms SMS, texts Renderer, rdb redis.UniversalClient, log *slog.Logger, opts Options) *Engine {
	opts.defaults()
	return &Engine{ledger: l, links: links, sms: sms, texts: texts, rdb: rdb, limiter: redis_rate.NewLimiter(rdb), log: log, opts: opts,
		cache: caches{links: map[linkKey]cachedLink{}}}
}

// Reply is what to say, in which language.
type Reply struct {
	Lang    string
	Outputs []Output
}

// maxEffects bounds effect chains; a step asking for more is a bug, not a user's doing.
const maxEffects = 4

// Handle answers one Input. An error means the State could not be loaded or saved, or a dependency
// was unavailable (ErrUnavailable: nothing is saved then, and the Reply has only the user's language,
// when known); refusals and other faults in effects become messages (faults are logged here, once).
func (e *Engine) Handle(ctx context.Context, in Input) (Reply, error) {
	if in.At.IsZero() {
		in.At = e.opts.Now()
	}
	y, m, d := in.At.In(e.opts.Location).Date()
	in.Today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	in.Nonce = nonce()
	in.AppCommand = e.opts.AppCommand
	in.Support = e.supportInfo(in)
	s, stored, err := e.load(ctx, in)
	if err != nil {
		return Reply{Lang: s.Lang}, unavailable(err)
	}
	s, outs := Handle(s, in)
	var res []Output
	for i := 0; ; i++ {
		var eff *Effect
		for _, o := range outs {
			if o.Do != nil {
				eff = o.Do
				continue
			}
			res = append(res, o)
		}
		if eff == nil {
			break
		}
		if i == maxEffects {
			return Reply{}, fmt.Errorf("dialogs: effect chain too long at %s", eff.Kind)
		}
		r := e.run(ctx, &s, in, *eff)
		if Unavailable(r.Err) { // the user repeats the step once Postgres or Redis is back
			return Reply{Lang: s.Lang}, fmt.Errorf("dialogs: %s: %w", eff.Kind, unavailable(r.Err))
		}
		if r.Err != nil && !IsRefusal(r.Err) {
			e.log.ErrorContext(ctx, "effect failed", "effect", eff.Kind, "channel", in.Channel, "update_id", in.UpdateID,
				"user_id", in.UserID, "err", r.Err)
		}
		s, outs = Continue(s, in, *eff, r)
	}
	if err := e.save(ctx, in, s, stored); err != nil {
		return Reply{Lang: s.Lang}, unavailable(err)
	}
	return Reply{Lang: s.Lang, Outputs: res}, nil
}

func (e *Engine) key(parts ...any) string {
	k := e.opts.Prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += fmt.Sprint(p)
	}
	return k
}

// stateKey is a user's dialog State. The user's keys share the hash tag {channel:user}, so in a
// Redis Cluster they live in one hash slot.
func (e *Engine) stateKey(in Input) string { return e.key("dlg", userTag(in.Channel, in.UserID)) }

// userTag is a channel user as a Redis Cluster hash tag.
func userTag(channel string, user int64) string {
	return "{" + channel + ":" + strconv.FormatInt(user, 10) + "}"
}

// load reads the State (stored says whether Redis had one) and fills in the link. A user who writes
// from a chat marked inactive (it had blocked the bot) has unblocked it.
func (e *Engine) load(ctx context.Context, in Input) (s State, stored bool, err error) {
	raw, err := e.rdb.Get(ctx, e.stateKey(in)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return State{}, false, fmt.Errorf("dialogs: load state: %w", err)
	default:
		stored = true
		if err := json.Unmarshal(raw, &s); err != nil {
			e.log.WarnContext(ctx, "dropping unreadable dialog state", "user_id", in.UserID, "err", err)
			s = State{}
		}
	}
	link, err := e.linkedAccount(ctx, in.Channel, in.UserID)
	switch {
	case errors.Is(err, ledger.ErrNotLinked):
		s.Account, s.Own = 0, ""
	case err != nil:
		return State{Lang: s.Lang}, false, fmt.Errorf("dialogs: load link: %w", err)
	default:
		s.Account, s.Own, s.Lang = link.AccountID, link.Phone, link.Language
		if !link.Active {
			if err := e.SetActive(ctx, in.Channel, in.UserID, true); err != nil {
				return State{}, false, fmt.Errorf("dialogs: reactivate link: %w", err)
			}
		}
	}
	if s.Lang == "" {
		s.Lang = PickLang(in.LangCode)
	}
	return s, stored, nil
}

// langTTL keeps an unlinked user's language choice for a while.
const langTTL = 30 * 24 * time.Hour

// save stores the State. A dialog lives DialogTTL after its last step; its key lives an hour longer,
// so a late answer gets "time is up" rather than being taken for a new conversation.
func (e *Engine) save(ctx context.Context, in Input, s State, stored bool) error {
	key := e.stateKey(in)
	var ttl time.Duration
	switch {
	case s.Step != StepMenu:
		life := e.opts.DialogTTL
		if s.Step == StepSupport { // a subscriber waits for an agent's answer far longer than for a code
			life = e.opts.Support.Idle
		}
		s.Until = in.At.Add(life)
		ttl = life + time.Hour
	case !s.Linked():
		s = State{Lang: s.Lang}
		ttl = langTTL
	case !stored:
		return nil // a linked user at the menu, as before: nothing to write
	default:
		if err := e.rdb.Del(ctx, key).Err(); err != nil {
			return fmt.Errorf("dialogs: save state: %w", err)
		}
		return nil
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("dialogs: save state: %w", err)
	}
	if err := e.rdb.Set(ctx, key, raw, ttl).Err(); err != nil {
		return fmt.Errorf("dialogs: save state: %w", err)
	}
	return nil
}

func nonce() string {
	var b [4]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b[:])
}
