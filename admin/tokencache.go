package admin

import (
	"crypto/sha256"
	"sync"
	"unsafe"

	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/clock"
)

// tokenCache remembers ID tokens that verified. A mobile app sends the same ID token for up to an hour,
// and its signature, audience and issuer cannot change in that time, so a
// hit saves the RSA verification (about 50 µs, most of an authenticated
// request's cost) and is exactly as strict: the entry ends at the token's
// own expiry (without the SDK's 5 minutes of clock skew). Keys are SHA-256
// digests, so the cache holds no usable tokens. Failures are never cached.
// A cached token is still checked against its user's revocation marker on
// every request (auth.go), and forgetUser drops a user's entries when a
// marker of theirs appears.
type tokenCache struct {
	max   int
	clock clock.Clock

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*auth.Token
}

func newTokenCache(size int, clk clock.Clock) *tokenCache {
	return &tokenCache{max: size, clock: clk, entries: make(map[[sha256.Size]byte]*auth.Token, min(size, 1024))}
}

// tokenKey is the SHA-256 of raw, hashed in place: the hash only reads the
// string's bytes, so neither a heap copy per request ([]byte(raw)) nor a
// stack copy (and the zeroing of its buffer) is needed.
func tokenKey(raw string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
}

func (c *tokenCache) get(raw string) (*auth.Token, bool) {
	k := tokenKey(raw)
	now := c.clock.Now().Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	tok, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	if tok.Expires <= now {
		delete(c.entries, k)
		return nil, false
	}
	return tok, true
}

func (c *tokenCache) put(raw string, tok *auth.Token) {
	now := c.clock.Now().Unix()
	if tok.Expires <= now {
		return
	}
	k := tokenKey(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[k] = tok
}

// evict drops expired entries, then arbitrary ones (map order is random)
// until a tenth of the cache is free.
func (c *tokenCache) evict(now int64) {
	for k, t := range c.entries {
		if t.Expires <= now {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max-c.max/10 {
			break
		}
		delete(c.entries, k)
	}
}

// forgetUser drops every cached token of uid. It scans the cache: it runs
// once per revocation, not per request.
func (c *tokenCache) forgetUser(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.entries {
		if t.UID == uid {
			delete(c.entries, k)
		}
	}
}
