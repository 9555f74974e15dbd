package dialogs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"bonusbot/ledger"
)

// Every update needs the user's link, and browsing needs the catalogue; both change rarely, so the
// Engine keeps them a while. Several replicas serve the same users, and a user who links through one
// must not be greeted as a stranger by another, so a kept link is trusted only while the link's
// version in Redis still reads what it read when the link was loaded: whatever changes a link through
// an Engine on any replica (link, unlink, language, a chat blocked or unblocked) writes a fresh random
// version after the change. A link read then costs one Redis GET instead of a Postgres query. When
// Redis cannot be read, the replica forgets every link it keeps (it may have missed a change) and
// asks Postgres. A cached catalogue may be seconds old, which is safe because a redeem re-reads the
// item and its cost.
const (
	// linkCacheTTL bounds how stale a link can be when its new version could not be written (Redis
	// down at the moment of the change).
	linkCacheTTL = time.Minute
	// linkVersionTTL outlives any kept link: a version that expired reads as "" again, and every link
	// kept under "" from before the change that wrote it is older than linkCacheTTL by then.
	linkVersionTTL  = time.Hour
	catalogCacheTTL = 5 * time.Second
	maxCachedLinks  = 100_000
)

type linkKey struct {
	channel string
	user    int64
}

type cachedLink struct {
	link    ledger.Link
	err     error // nil or ledger.ErrNotLinked
	at      time.Time
	version string // the link's version in Redis when it was loaded
}

type caches struct {
	mu          sync.Mutex
	links       map[linkKey]cachedLink
	items       []ledger.Item
	itemsAt     time.Time
	itemsLoaded bool
}

// linkVersionKey is the version of a user's link; it carries the user's hash tag.
func (e *Engine) linkVersionKey(channel string, user int64) string {
	return e.key("link", userTag(channel, user))
}

func (e *Engine) linkedAccount(ctx context.Context, channel string, user int64) (ledger.Link, error) {
	k, now := linkKey{channel, user}, time.Now()
	version, verr := e.rdb.Get(ctx, e.linkVersionKey(channel, user)).Result()
	switch {
	case errors.Is(verr, redis.Nil):
		version, verr = "", nil
	case verr != nil:
		e.cache.mu.Lock()
		clear(e.cache.links) // changes may have gone by unseen
		e.cache.mu.Unlock()
		return e.links.LinkedAccount(ctx, channel, user)
	}
	e.cache.mu.Lock()
	c, ok := e.cache.links[k]
	e.cache.mu.Unlock()
	if ok && c.version == version && now.Sub(c.at) < linkCacheTTL {
		return c.link, c.err
	}
	l, err := e.links.LinkedAccount(ctx, channel, user)
	if err != nil && !errors.Is(err, ledger.ErrNotLinked) {
		return l, err
	}
	e.cache.mu.Lock()
	if len(e.cache.links) >= maxCachedLinks {
		clear(e.cache.links)
	}
	e.cache.links[k] = cachedLink{link: l, err: err, at: now, version: version}
	e.cache.mu.Unlock()
	return l, err
}

// forget makes every replica reload user's link, after any change to it: it drops this replica's
// copy and writes a new version. It runs on a context of its own, so a request whose deadline has
// passed after its change still announces the change.
func (e *Engine) forget(channel string, user int64) {
	e.cache.mu.Lock()
	delete(e.cache.links, linkKey{channel, user})
	e.cache.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.rdb.Set(ctx, e.linkVersionKey(channel, user), nonce()+nonce(), linkVersionTTL).Err(); err != nil {
		e.log.WarnContext(ctx, "link change not announced to other replicas; they may show the old link for a minute",
			"channel", channel, "user_id", user, "err", err)
	}
}

// SetActive marks a user's chat reachable or not (the channel calls it on a 403); it is Links.SetActive
// through the Engine's cache.
func (e *Engine) SetActive(ctx context.Context, channel string, user int64, active bool) error {
	defer e.forget(channel, user)
	return e.links.SetActive(ctx, channel, user, active)
}

func (e *Engine) catalogItems(ctx context.Context) ([]ledger.Item, error) {
	now := time.Now()
	e.cache.mu.Lock()
	items, fresh := e.cache.items, e.cache.itemsLoaded && now.Sub(e.cache.itemsAt) < catalogCacheTTL
	e.cache.mu.Unlock()
	if fresh {
		return items, nil
	}
	items, err := e.ledger.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	e.cache.mu.Lock()
	e.cache.items, e.cache.itemsAt, e.cache.itemsLoaded = items, now, true
	e.cache.mu.Unlock()
	return items, nil
}
