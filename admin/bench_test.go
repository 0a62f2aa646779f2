package admin

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
)

// BenchmarkAPI compares an authenticated GET (/v1/me: App Check off, RS256
// ID token verification on the production path with a cached key, rate
// limiting, request id, access log, metrics) with /healthz of the same
// server, in process, and measures VerifyIDToken alone. The goal is that
// the authenticated route keeps at least 70% of /healthz's throughput:
// ratio = ns/op(healthz) / ns/op(me).
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench BenchmarkAPI -benchmem ./admin/
func BenchmarkAPI(b *testing.B) {
	env := emutest.New(b)
	ra := newRS256Auth(b, env.AuthProjectID, env.AuthHost, nil)
	ts := newTestServerEnv(b, env, func(c *Config, d *Deps) {
		d.Auth = ra.client
		d.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil)) // production logs every request
		d.Clock = time.Now
		c.RateLimit, c.RateBurst = 1e9, 1_000_000_000
	})
	tok := ra.token("bench-user", time.Now(), time.Now().Add(time.Hour), nil)
	h := ts.srv.Handler()
	serve := func(b *testing.B, path, token string) {
		r := httptest.NewRequest("GET", path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s = %d %s", path, w.Code, w.Body)
		}
	}
	reqPerSec := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("healthz", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, "/healthz", "")
		}
		reqPerSec(b)
	})
	b.Run("me", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, "/v1/me", tok)
		}
		reqPerSec(b)
	})
	b.Run("healthz-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, "/healthz", "")
			}
		})
		reqPerSec(b)
	})
	b.Run("me-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, "/v1/me", tok)
			}
		})
		reqPerSec(b)
	})
	// Over loopback HTTP with keep-alive, as a client (or a load balancer)
	// sees it.
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	get := func(b *testing.B, path, token string) {
		r, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
	}
	b.Run("http-healthz", func(b *testing.B) {
		for b.Loop() {
			get(b, "/healthz", "")
		}
		reqPerSec(b)
	})
	b.Run("http-me", func(b *testing.B) {
		for b.Loop() {
			get(b, "/v1/me", tok)
		}
		reqPerSec(b)
	})
	b.Run("me-uncached", func(b *testing.B) {
		// Every request verifies the RS256 signature (a fresh token each
		// time would do the same): the worst case, a cold cache.
		ts.srv.tokens = nil
		defer func() { ts.srv.tokens = newTokenCache(DefaultTokenCacheSize, time.Now) }()
		b.ReportAllocs()
		for b.Loop() {
			serve(b, "/v1/me", tok)
		}
		reqPerSec(b)
	})
	b.Run("VerifyIDToken", func(b *testing.B) {
		b.ReportAllocs()
		ctx := b.Context()
		for b.Loop() {
			if _, err := ra.client.VerifyIDToken(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
