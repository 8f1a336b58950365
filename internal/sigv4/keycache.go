package sigv4

import "sync"

// DefaultKeyCacheSize bounds a KeyCache made with NewKeyCache(0).
const DefaultKeyCacheSize = 4096

// KeyCache remembers derived signing keys (kSigning, four HMACs per
// request otherwise) per access key, secret, date, region and service. The
// secret is part of the cache key, so a rotated secret never matches a key
// derived from the old one. It holds at most its size in entries: when full,
// it is emptied (keys are re-derived on the next requests). Safe for
// concurrent use.
type KeyCache struct {
	mu   sync.Mutex
	max  int
	keys map[keyID][]byte
}

type keyID struct {
	accessKeyID, secret, date, region, service string
}

// NewKeyCache returns a cache of at most size keys (0 means
// DefaultKeyCacheSize).
func NewKeyCache(size int) *KeyCache {
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	return &KeyCache{max: size, keys: make(map[keyID][]byte)}
}

// Len is the number of cached keys.
func (c *KeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// key returns the signing key of secret and s, derived or cached. The
// returned slice must not be modified.
func (c *KeyCache) key(secret string, s Scope) []byte {
	if c == nil {
		return signingKey(secret, s)
	}
	id := keyID{s.AccessKeyID, secret, s.Date, s.Region, s.Service}
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k
	}
	k = signingKey(secret, s)
	c.mu.Lock()
	if len(c.keys) >= c.max {
		clear(c.keys)
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k
}
