package admin

import (
	"strings"
	"testing"
)

// TestTokenCacheMetrics: the first request with a token misses the cache (and
// verifies), the next ones with the same token hit it; /metrics counts both.
func TestTokenCacheMetrics(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice := ts.newUser("Alice")
	for range 3 {
		ts.call("GET", "/v1/me", alice.Token, nil, 200)
	}
	body := string(ts.call("GET", "/metrics", "", nil, 200).Body)
	for _, want := range []string{
		`hearth_auth_token_cache_lookups_total{result="hit"} 2`,
		`hearth_auth_token_cache_lookups_total{result="miss"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
