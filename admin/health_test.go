package admin

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/emulator/emutest"
)

// probeCounter is the real Auth client, counting the lookups of /readyz's probe uid.
type probeCounter struct {
	AuthClient
	probes atomic.Int64
}

func (p *probeCounter) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	if uid == readyProbeUID {
		p.probes.Add(1)
	}
	return p.AuthClient.GetUser(ctx, uid)
}

// TestReadyzCachesItsCheck: /readyz is unauthenticated, so a flood of probes must not
// become a flood of Firestore and Auth calls: concurrent probes share one check, and the
// result is reused for ReadyCacheTTL.
func TestReadyzCachesItsCheck(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	counter := &probeCounter{AuthClient: env.Auth()}
	ts := newTestServerEnv(t, env, func(c *Config, d *Deps) { d.Auth = counter })
	const probes = 50
	var wg sync.WaitGroup
	codes := make([]int, probes)
	for i := range probes {
		wg.Go(func() { codes[i] = ts.do(req{method: "GET", path: "/readyz"}).Code })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("probe %d: /readyz = %d, want 200", i, c)
		}
	}
	if got := counter.probes.Load(); got != 1 {
		t.Errorf("%d concurrent probes made %d dependency checks, want 1", probes, got)
	}
	ts.clock.Advance(DefaultReadyCacheTTL / 2)
	ts.call("GET", "/readyz", "", nil, http.StatusOK)
	if got := counter.probes.Load(); got != 1 {
		t.Errorf("a probe within the cache interval made a check: %d checks, want 1", got)
	}
	ts.clock.Advance(DefaultReadyCacheTTL / 2)
	ts.call("GET", "/readyz", "", nil, http.StatusOK)
	if got := counter.probes.Load(); got != 2 {
		t.Errorf("a probe after the cache interval: %d checks, want 2", got)
	}
	// Shutting down is never cached: the next probe says so at once.
	ts.srv.draining.Store(true)
	var r readyResponse
	ts.call("GET", "/readyz", "", nil, http.StatusServiceUnavailable).decode(t, &r)
	if r.Checks["server"] != "shutting down" || counter.probes.Load() != 2 {
		t.Errorf("/readyz while draining = %+v after %d checks, want shutting down from the cached check", r, counter.probes.Load())
	}
}

// TestReadyzCacheOff: ReadyCacheTTL 0 checks on every probe.
func TestReadyzCacheOff(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	counter := &probeCounter{AuthClient: env.Auth()}
	ts := newTestServerEnv(t, env, func(c *Config, d *Deps) {
		c.ReadyCacheTTL = 0
		d.Auth = counter
	})
	for range 3 {
		ts.call("GET", "/readyz", "", nil, http.StatusOK)
	}
	if got := counter.probes.Load(); got != 3 {
		t.Errorf("3 probes without a cache made %d checks, want 3", got)
	}
}
