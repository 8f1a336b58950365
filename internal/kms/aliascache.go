package kms

import (
	"sync"
	"time"
)

// maxCachedAliases bounds the alias cache.
const maxCachedAliases = 10000

// aliasCache maps (account, region, alias name) to a key id for up to
// CacheTTL (a record's alias resolution would otherwise read the store on
// every call). This node's alias writes update it at once; another node's
// are seen within CacheTTL, like key records. Only aliases that exist are
// cached.
type aliasCache struct {
	ttl time.Duration // <= 0: no caching
	mu  sync.Mutex
	m   map[aliasName]aliasEntry
}

type aliasName struct{ account, region, name string }

type aliasEntry struct {
	keyID string
	at    time.Time
}

func newAliasCache(ttl time.Duration) *aliasCache {
	return &aliasCache{ttl: ttl, m: map[aliasName]aliasEntry{}}
}

// get returns the key id of a fresh entry.
func (ac *aliasCache) get(account, region, name string, now time.Time) (string, bool) {
	if ac.ttl <= 0 {
		return "", false
	}
	ac.mu.Lock()
	e, ok := ac.m[aliasName{account, region, name}]
	ac.mu.Unlock()
	if !ok || now.Sub(e.at) >= ac.ttl || now.Before(e.at) {
		return "", false
	}
	return e.keyID, true
}

// put records that the alias points to keyID as of now.
func (ac *aliasCache) put(account, region, name, keyID string, now time.Time) {
	if ac.ttl <= 0 {
		return
	}
	n := aliasName{account, region, name}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if _, ok := ac.m[n]; !ok && len(ac.m) >= maxCachedAliases {
		// Full: drop arbitrary entries (map order is random) down to 90%.
		for k := range ac.m {
			delete(ac.m, k)
			if len(ac.m) < maxCachedAliases*9/10 {
				break
			}
		}
	}
	ac.m[n] = aliasEntry{keyID: keyID, at: now}
}

// drop forgets an alias.
func (ac *aliasCache) drop(account, region, name string) {
	ac.mu.Lock()
	delete(ac.m, aliasName{account, region, name})
	ac.mu.Unlock()
}

// dropKey forgets every alias of a key (the key was deleted).
func (ac *aliasCache) dropKey(keyID string) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for n, e := range ac.m {
		if e.keyID == keyID {
			delete(ac.m, n)
		}
	}
}
