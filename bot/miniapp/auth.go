package miniapp

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-redis/redis_rate/v10"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// request is an authenticated API request: who asks, in which language, and their link if linked.
type request struct {
	*http.Request
	visitor dialogs.Visitor
	lang    string
	link    ledger.Link // zero AccountID: not linked
}

// launch verifies the Authorization header: "tma <initData>" (Telegram), "vk <launch query>" (VK,
// when a VK secret is set) or, in development only, "dev <phone>".
func (h *Handler) launch(r *http.Request) (Launch, error) {
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	now := h.opts.Now()
	switch {
	case strings.EqualFold(scheme, "tma"):
		return ValidateTelegram(data, h.opts.BotToken, h.opts.MaxAge, now)
	case strings.EqualFold(scheme, "vk"):
		return ValidateVK(data, h.opts.VKSecret, h.opts.MaxAge, now)
	case strings.EqualFold(scheme, "dev") && h.opts.Dev:
		return h.devLaunch(r, data)
	}
	return Launch{}, ErrLaunchMalformed
}

// devLaunch opens the page as the member whose phone is given, linking a "dev" user of that number
// once per process, before the Engine has looked the user up (so its link cache never holds "not linked").
func (h *Handler) devLaunch(r *http.Request, phone string) (Launch, error) {
	phone, err := ledger.ParsePhone(phone)
	if err != nil {
		return Launch{}, ErrLaunchNoUser
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(phone, "+"), 10, 64)
	if _, done := h.devOnce.Load(phone); !done {
		if _, err := h.ledger.Link(r.Context(), ledger.Link{Channel: "dev", UserID: id, ChatID: id, Phone: phone}); err != nil {
			return Launch{}, ErrLaunchNoUser
		}
		h.devOnce.Store(phone, true)
	}
	return Launch{Channel: "dev", UserID: id, LangCode: "ru", SignedAt: h.opts.Now()}, nil
}

// visitor authenticates a request and applies the per-user rate limit; next may find the user unlinked.
func (h *Handler) visitor(next func(http.ResponseWriter, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := dialogs.PickLang(r.Header.Get("Accept-Language"))
		l, err := h.launch(r)
		switch {
		case errors.Is(err, ErrLaunchExpired):
			h.writeError(w, r, lang, http.StatusUnauthorized, "launch_expired", "app.error.expired")
			return
		case err != nil:
			h.writeError(w, r, lang, http.StatusUnauthorized, "unauthorized", "app.error.unauthorized")
			return
		}
		req := &request{Request: r, visitor: dialogs.Visitor{Channel: l.Channel, UserID: l.UserID, ChatID: l.UserID, LangCode: l.LangCode},
			lang: dialogs.PickLang(l.LangCode)}
		if l.Channel != "dev" {
			// The page counts down from this on its own clock, which need not agree with ours.
			left := l.SignedAt.Add(h.opts.MaxAge).Sub(h.opts.Now())
			w.Header().Set("Launch-Expires-In", strconv.FormatInt(int64(left.Seconds()), 10))
		}
		res, err := h.limiter.Allow(r.Context(), h.opts.Prefix+"miniapp:"+l.Channel+":"+strconv.FormatInt(l.UserID, 10),
			redis_rate.PerMinute(h.opts.Rate))
		if err != nil {
			h.fault(w, req, "rate limit", err)
			return
		}
		if res.Allowed == 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(res.RetryAfter.Seconds()))))
			h.writeError(w, r, req.lang, http.StatusTooManyRequests, "rate_limited", "app.error.rate_limited")
			return
		}
		switch link, err := h.engine.Account(r.Context(), req.visitor); {
		case errors.Is(err, ledger.ErrNotLinked):
		case err != nil:
			h.fault(w, req, "link", err)
			return
		default:
			req.link, req.lang = link, link.Language
		}
		next(w, req)
	}
}

// member is visitor for requests that need a linked account: an unlinked user gets 403 not_linked.
func (h *Handler) member(next func(http.ResponseWriter, *request)) http.HandlerFunc {
	return h.visitor(func(w http.ResponseWriter, r *request) {
		if r.link.AccountID == 0 {
			h.refuse(w, r, ledger.ErrNotLinked)
			return
		}
		next(w, r)
	})
}
