package dialogs

import (
	"context"
	"errors"
	"sync"
	"time"

	"bonusbot/ledger"
)

// Every update needs the user's link, and browsing needs the catalogue; both change rarely, so the
// Engine keeps them a few seconds. Links of a channel user change only through this Engine (it forgets
// an entry whenever it changes one, SetActive included), so a cached link is never wrong; a cached
// catalogue may be seconds old, which is safe because a redeem re-reads the item and its cost.
const (
	linkCacheTTL    = 30 * time.Second
	catalogCacheTTL = 5 * time.Second
	maxCachedLinks  = 100_000
)

type linkKey struct {
	channel string
	user    int64
}

type cachedLink struct {
	link ledger.Link
	err  error // nil or ledger.ErrNotLinked
	at   time.Time
}

type caches struct {
	mu          sync.Mutex
	links       map[linkKey]cachedLink
	items       []ledger.Item
	itemsAt     time.Time
	itemsLoaded bool
}

func (e *Engine) linkedAccount(ctx context.Context, channel string, user int64) (ledger.Link, error) {
	k, now := linkKey{channel, user}, time.Now()
	e.cache.mu.Lock()
	c, ok := e.cache.links[k]
	e.cache.mu.Unlock()
	if ok && now.Sub(c.at) < linkCacheTTL {
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
	e.cache.links[k] = cachedLink{link: l, err: err, at: now}
	e.cache.mu.Unlock()
	return l, err
}

// forget drops the cached link of user, after any change to it.
func (e *Engine) forget(channel string, user int64) {
	e.cache.mu.Lock()
	delete(e.cache.links, linkKey{channel, user})
	e.cache.mu.Unlock()
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
