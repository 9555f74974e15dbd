// Package logs makes bonusbot's structured logs safe to ship and easy to follow: a slog.Handler
// that adds the update or job being worked (from the context) to every record, hashes chat and
// user ids, and — outside development — masks phone numbers and drops one-time codes wherever a
// call site logs them. Call sites keep logging plain values; the rules live here, once.
package logs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strconv"
)

// Options tune the Handler.
type Options struct {
	// Dev keeps phones and codes readable (development without a real platform or gateway).
	Dev bool
	// HashKey keys the hash of chat and user ids, so the same chat has the same hash on every replica
	// yet ids cannot be recovered by hashing every possible id. Empty: a fixed development key.
	HashKey []byte
}

// Handler wraps another slog.Handler; see the package doc.
type Handler struct {
	next slog.Handler
	opts Options
}

// NewHandler returns a Handler writing to next.
func NewHandler(next slog.Handler, opts Options) *Handler {
	if len(opts.HashKey) == 0 {
		opts.HashKey = []byte("bonusbot development")
	}
	return &Handler{next: next, opts: opts}
}

// Enabled reports whether next logs level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the context's update and job ids and passes on a cleaned copy of r.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	has := map[string]bool{}
	r.Attrs(func(a slog.Attr) bool {
		has[a.Key] = true
		out.AddAttrs(h.clean(a))
		return true
	})
	if w, ok := ctx.Value(workKey{}).(work); ok { // unless the call site logged them itself
		if w.updateID != 0 && !has["update_id"] {
			out.AddAttrs(slog.Int64("update_id", w.updateID))
		}
		if w.jobID != 0 && !has["job_id"] {
			out.AddAttrs(slog.Int64("job_id", w.jobID), slog.String("job_kind", w.jobKind))
		}
	}
	return h.next.Handle(ctx, out)
}

// WithAttrs cleans attrs once, when they are attached.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.clean(a)
	}
	return &Handler{next: h.next.WithAttrs(clean), opts: h.opts}
}

// WithGroup opens a group in next.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), opts: h.opts}
}

// idKeys are attributes holding a Telegram chat or user id (in a private chat they are the same).
var idKeys = map[string]bool{"chat_id": true, "user_id": true, "user_chat_id": true, "from_id": true, "agent_id": true}

// phoneKeys and secretKeys hold a phone number or a one-time code whatever their value looks like.
var (
	phoneKeys  = map[string]bool{"phone": true, "to": true, "from_phone": true, "to_phone": true}
	secretKeys = map[string]bool{"code": true, "otp": true, "token": true}
)

// phoneLike finds phone numbers inside free text (an error message, say): a + and 10–15 digits,
// or a Russian 11-digit number starting 7 or 8.
var phoneLike = regexp.MustCompile(`\+\d{10,15}\b|\b[78]9\d{9}\b`)

func (h *Handler) clean(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch {
	case v.Kind() == slog.KindGroup:
		attrs := v.Group()
		clean := make([]any, len(attrs))
		for i, g := range attrs {
			clean[i] = h.clean(g)
		}
		return slog.Group(a.Key, clean...)
	case idKeys[a.Key] && (v.Kind() == slog.KindInt64 || v.Kind() == slog.KindUint64):
		return slog.String(a.Key, HashID(h.opts.HashKey, v.Int64()))
	case h.opts.Dev:
		return slog.Attr{Key: a.Key, Value: v}
	case secretKeys[a.Key]:
		return slog.String(a.Key, "<redacted>")
	case phoneKeys[a.Key] && v.Kind() == slog.KindString:
		return slog.String(a.Key, MaskPhone(v.String()))
	case v.Kind() == slog.KindString:
		return slog.String(a.Key, maskPhones(v.String()))
	case v.Kind() == slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return slog.String(a.Key, maskPhones(err.Error()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func maskPhones(s string) string { return phoneLike.ReplaceAllStringFunc(s, MaskPhone) }

// MaskPhone keeps a number's first five and last two characters: "+7916***67". Shorter strings
// become "***".
func MaskPhone(s string) string {
	if len(s) < 9 {
		return "***"
	}
	return s[:5] + "***" + s[len(s)-2:]
}

// HashID is how a chat or user id appears in the logs: 12 hex digits of an HMAC of it.
func HashID(key []byte, id int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(id, 10)))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

type workKey struct{}

type work struct {
	updateID int64
	jobID    int64
	jobKind  string
}

// WithUpdate marks ctx as the handling of a Telegram update: every record logged with it carries
// update_id.
func WithUpdate(ctx context.Context, updateID int64) context.Context {
	return context.WithValue(ctx, workKey{}, work{updateID: updateID})
}

// WithJob marks ctx as the working of a River job: every record logged with it carries job_id and
// job_kind.
func WithJob(ctx context.Context, jobID int64, kind string) context.Context {
	return context.WithValue(ctx, workKey{}, work{jobID: jobID, jobKind: kind})
}
