package admin

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/cloudlog"
	"github.com/hearth-chat/hearth/internal/media"
)

// BenchmarkAPI compares an authenticated GET (/v1/me: App Check off, RS256
// ID token verification on the production path with a cached key, rate
// limiting, request id, access log, metrics) with /healthz of the same
// server, in process and over HTTP loopback, and measures VerifyIDToken
// alone. The goals are that the authenticated route keeps at least 70% of
// /healthz's throughput in process and 90% over HTTP: the ratios are the
// paired and http-paired sub-benchmarks' me/healthz, which alternate the two
// requests so that the noise of a shared machine falls on both alike.
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench BenchmarkAPI -benchmem ./admin/
func BenchmarkAPI(b *testing.B) {
	env := emutest.New(b)
	ra := newRS256Auth(b, env.AuthProjectID, env.AuthHost, nil)
	ts := newTestServerEnv(b, env, func(c *Config, d *Deps) {
		d.Auth = ra.client
		// hearth serve's JSON logs (Cloud Logging's shape), to nowhere:
		// production logs every request at info.
		d.Logger = slog.New(cloudlog.NewHandler(io.Discard, env.ProjectID, nil))
		d.Clock = clock.System{}
		c.RateLimit, c.RateBurst = 1e9, 1_000_000_000
	})
	tok := ra.token("bench-user", time.Now(), time.Now().Add(time.Hour), nil)
	// The header a client holds for the token's hour, built once: the
	// concatenation is the client's cost, not the server's.
	bearer := "Bearer " + tok
	h := ts.srv.Handler()
	serve := func(b *testing.B, path, authz string) {
		r := httptest.NewRequest("GET", path, nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
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
			serve(b, "/v1/me", bearer)
		}
		reqPerSec(b)
	})
	// paired alternates /healthz and /v1/me and times each, so both see the same
	// load at the same moments (the machine is shared and noisy): the throughput
	// ratio me/healthz is median(healthz time) / median(me time), medians so that
	// a request the scheduler stalled does not decide it. It is the figure of
	// docs/performance.md.
	paired := func(b *testing.B, do func(b *testing.B, path, authz string)) {
		// The third request is /healthz carrying the same Authorization header,
		// which it ignores: what only moving the token costs (reading, copying
		// and writing ~1 KB of header), with no check run on it.
		var th, tm, tt []time.Duration
		for b.Loop() {
			t0 := time.Now()
			do(b, "/healthz", "")
			t1 := time.Now()
			do(b, "/v1/me", bearer)
			t2 := time.Now()
			do(b, "/healthz", bearer)
			th, tm, tt = append(th, t1.Sub(t0)), append(tm, t2.Sub(t1)), append(tt, time.Since(t2))
		}
		mh, mm := median(th), median(tm)
		b.ReportMetric(float64(mh)/float64(mm), "me/healthz")
		b.ReportMetric(float64(mh)/float64(median(tt)), "healthz+token/healthz")
		b.ReportMetric(float64(mh.Nanoseconds()), "healthz-p50-ns")
		b.ReportMetric(float64(mm.Nanoseconds()), "me-p50-ns")
	}
	b.Run("paired", func(b *testing.B) { paired(b, serve) })
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
				serve(b, "/v1/me", bearer)
			}
		})
		reqPerSec(b)
	})
	// Over loopback HTTP with keep-alive, as a client (or a load balancer)
	// sees it.
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	get := func(b *testing.B, path, authz string) {
		r, _ := http.NewRequest("GET", srv.URL+path, nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
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
			get(b, "/v1/me", bearer)
		}
		reqPerSec(b)
	})
	b.Run("http-paired", func(b *testing.B) { paired(b, get) })
	b.Run("me-uncached", func(b *testing.B) {
		// Every request verifies the RS256 signature (a fresh token each
		// time would do the same): the worst case, a cold cache.
		ts.srv.tokens = nil
		defer func() { ts.srv.tokens = newTokenCache(DefaultTokenCacheSize, ts.srv.clock) }()
		b.ReportAllocs()
		for b.Loop() {
			serve(b, "/v1/me", bearer)
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

// uploadBench is a server with media on, its issuer's daily quota enforced (but high
// enough for a long run, so every request runs the quota check and charges it), and
// logs in JSON to nowhere, as in production minus the I/O.
func uploadBench(b *testing.B) *testServer {
	ts := newMediaServer(b)
	cfg := mediaConfigFromEnv(b)
	cfg.DailyUploads, cfg.DailyUploadBytes = 1<<30, 1<<62
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	is, err := media.NewIssuer(cfg, media.Deps{Firestore: ts.env.Firestore(), Storage: ts.srv.storage, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ts.srv.SetMedia(is)
	ts.srv.access = quiet
	ts.srv.log = quiet
	return ts
}

// BenchmarkUploadRoute is POST /v1/uploads through the whole router, one request at a
// time: ID token (cached) and revocation marker check (in memory), rate limiting,
// JSON decoding, then one Firestore read of the room, the membership and the day's
// quota, the V4 signature (RSA-2048), and one guarded commit of the quota and the
// upload record. ms/upload is its latency; uploads/s = 1e9 / ns/op.
//
//	hearth emulators exec --free-ports -- go test -run '^$' -bench 'UploadRoute' -cpuprofile cpu.out ./admin/
func BenchmarkUploadRoute(b *testing.B) {
	ts := uploadBench(b)
	r := ts.newRoom()
	body := map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 2 << 20}
	ts.call("POST", "/v1/uploads", r.member.Token, body, http.StatusCreated)
	for b.Loop() {
		if got := ts.do(req{method: "POST", path: "/v1/uploads", token: r.member.Token, body: body}); got.Code != http.StatusCreated {
			b.Fatalf("POST /v1/uploads = %s", got)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/upload")
}

// BenchmarkUploadRouteParallel is BenchmarkUploadRoute from 8×GOMAXPROCS clients at
// once, each a different member of one room (quotas are per user): the route's
// throughput, which is the figure of docs/performance.md.
func BenchmarkUploadRouteParallel(b *testing.B) {
	ts := uploadBench(b)
	r := ts.newRoom()
	const clients = 16
	users := make([]user, clients)
	ids := make([]string, clients)
	for i := range users {
		users[i] = ts.newUser("")
		ids[i] = users[i].UID
	}
	ts.call("POST", "/v1/rooms/"+r.ID+"/members", r.owner.Token, map[string]any{"userIds": ids}, http.StatusOK)
	body := map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 2 << 20}
	for _, u := range users {
		ts.call("POST", "/v1/uploads", u.Token, body, http.StatusCreated)
	}
	var next atomic.Int32
	b.SetParallelism(clients / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		u := users[int(next.Add(1)-1)%clients]
		for pb.Next() {
			if got := ts.do(req{method: "POST", path: "/v1/uploads", token: u.Token, body: body}); got.Code != http.StatusCreated {
				b.Errorf("POST /v1/uploads = %s", got)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
}

// median is the middle of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
