package admin

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/appcheck"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/cloudlog"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestBadRequestBodies(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, d *Deps) { c.MaxBodyBytes = 1024 })
	alice, bob := ts.newUser("Alice"), ts.newUser("Bob")
	big := `{"userId":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name        string
		body        string
		contentType string
		hideLength  bool
		want        int
		field       string
	}{
		{"malformed", `{"userId":`, "", false, 400, ""},
		{"syntax error", `{"userId" "x"}`, "", false, 400, ""},
		{"empty body", ``, "", false, 400, ""},
		{"array", `[]`, "", false, 400, ""},
		{"null", `null`, "", false, 400, ""},
		{"string", `"x"`, "", false, 400, ""},
		{"wrong type", `{"userId": 5}`, "", false, 400, "userId"},
		{"unknown field", `{"userId":"x","admin":true}`, "", false, 400, "admin"},
		{"field name case", `{"UserId":"x"}`, "", false, 400, "UserId"},
		{"trailing data", `{"userId":"a"} {"userId":"b"}`, "", false, 400, ""},
		{"trailing garbage", `{"userId":"a"}x`, "", false, 400, ""},
		{"text/plain", `{"userId":"x"}`, "text/plain", false, 415, ""},
		{"form", `userId=x`, "application/x-www-form-urlencoded", false, 415, ""},
		{"json with charset", `{"userId":"` + bob.UID + `"}`, "application/json; charset=utf-8", false, 201, ""},
		{"oversize", big, "", false, 413, ""},
		{"oversize, chunked", big, "", true, 413, ""},
		{"invalid UTF-8 id", "{\"userId\":\"a\xffb\"}", "", false, 400, "userId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.hideLength {
				body = io.MultiReader(body) // unknown length: the limit trips while reading
			}
			hr := httptest.NewRequestWithContext(t.Context(), "POST", "/v1/rooms/direct", body)
			hr.Header.Set("Authorization", "Bearer "+alice.Token)
			if tt.contentType != "" {
				hr.Header.Set("Content-Type", tt.contentType)
			}
			w := httptest.NewRecorder()
			ts.srv.Handler().ServeHTTP(w, hr)
			checkOpenAPI(t, hr, recorded(w))
			resp := response{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
			if resp.Code != tt.want {
				t.Fatalf("POST %q = %s, want %d", tt.body, resp, tt.want)
			}
			e := resp.errorBody()
			if tt.want >= 400 && (e.Code == "" || e.Message == "" || e.RequestID == "") {
				t.Errorf("error body = %s, want code, message and requestId", resp.Body)
			}
			if tt.field != "" && (len(e.Fields) == 0 || e.Fields[0].Field != tt.field) {
				t.Errorf("fields = %+v, want %s first", e.Fields, tt.field)
			}
		})
	}
	t.Run("member list routes take bigger bodies", func(t *testing.T) {
		ids := make([]string, 500)
		for i := range ids {
			ids[i] = strings.Repeat("u", 100) + strings.Repeat("0", 3-len(itoa(i))) + itoa(i)
		}
		raw, _ := json.Marshal(map[string]any{"title": "big", "memberIds": ids})
		if len(raw) <= 1024 || len(raw) > MemberListBodyBytes {
			t.Fatalf("body of %d bytes does not test the limits", len(raw))
		}
		// Not 413: the users do not exist, so 400 naming them.
		resp := ts.do(req{method: "POST", path: "/v1/rooms", token: alice.Token, body: raw})
		if resp.Code != 400 || len(resp.errorBody().Fields) != 500 {
			t.Errorf("POST /v1/rooms with %d bytes = %d with %d fields, want 400 with 500", len(raw), resp.Code, len(resp.errorBody().Fields))
		}
	})
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func TestInvalidPathIDs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice := ts.newUser("Alice")
	admin := ts.newAdmin("Root")
	long := strings.Repeat("a", model.MaxIDLen+1)
	tests := []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/v1/rooms/..", alice.Token, 400},
		{"GET", "/v1/rooms/%2e%2e", alice.Token, 400},
		{"GET", "/v1/rooms/.%2e/messages", alice.Token, 400},
		{"GET", "/v1/rooms/" + long, alice.Token, 400},
		{"GET", "/v1/rooms/a_b", alice.Token, 400},
		{"GET", "/v1/rooms/__x__", alice.Token, 400},
		{"GET", "/v1/rooms/%C3%BC", alice.Token, 400},
		{"GET", "/v1/rooms/a%20b", alice.Token, 400},
		{"GET", "/v1/rooms/a%00b", alice.Token, 400},
		{"GET", "/v1/rooms/a%2Fb", alice.Token, 404},
		{"GET", "/v1/rooms/../../admin/v1/stats", alice.Token, 404},
		{"GET", "/v1/rooms//messages", alice.Token, 400},
		{"GET", "/v1/rooms/", alice.Token, 404},
		{"PUT", "/v1/devices/" + long, alice.Token, 400},
		{"DELETE", "/v1/devices/..", alice.Token, 400},
		{"DELETE", "/v1/rooms/r1/members/a.b", alice.Token, 400},
		{"POST", "/v1/rooms/r1/messages/" + long + "/redact", alice.Token, 400},
		{"GET", "/admin/v1/users/" + long, admin.Token, 400},
		{"GET", "/admin/v1/users/..", admin.Token, 400},
		{"DELETE", "/admin/v1/rooms/a.b", admin.Token, 400},
		{"GET", "/admin/v1/audit?pageToken=..", admin.Token, 400},
		{"GET", "/admin/v1/audit?actor=a%2Fb", admin.Token, 400},
	}
	for _, tt := range tests {
		resp := ts.do(req{method: tt.method, path: tt.path, token: tt.token})
		if resp.Code != tt.want {
			t.Errorf("%s %s = %s, want %d", tt.method, tt.path, resp, tt.want)
		}
		if e := resp.errorBody(); e.Code == "" {
			t.Errorf("%s %s: body %s is not the error shape", tt.method, tt.path, resp.Body)
		}
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	if resp := ts.do(req{method: "GET", path: "/nope"}); resp.Code != 404 || resp.errorBody().Code != CodeNotFound {
		t.Errorf("GET /nope = %s, want 404 NOT_FOUND", resp)
	}
	if resp := ts.do(req{method: "DELETE", path: "/healthz"}); resp.Code != 405 || resp.errorBody().Code != CodeInvalidArgument {
		t.Errorf("DELETE /healthz = %s, want 405 in the error shape", resp)
	}
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		name, in string
		echoed   bool
	}{
		{"none", "", false},
		{"plain", "abc-123_x.y:z", true},
		{"too long", strings.Repeat("a", 65), false},
		{"newline", "a\nb", false},
		{"markup", "<script>", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		resp := ts.do(req{method: "GET", path: "/nope", header: map[string]string{RequestIDHeader: tt.in}})
		id := resp.Header.Get(RequestIDHeader)
		if tt.echoed && id != tt.in || !tt.echoed && (id == tt.in || !validRequestID(id)) {
			t.Errorf("%s: X-Request-Id %q -> %q", tt.name, tt.in, id)
		}
		if resp.errorBody().RequestID != id {
			t.Errorf("%s: error requestId %q, header %q", tt.name, resp.errorBody().RequestID, id)
		}
		if !tt.echoed && seen[id] {
			t.Errorf("%s: generated id %q twice", tt.name, id)
		}
		seen[id] = true
	}
}

func TestAccessLogHasNoTokens(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice := ts.newUser("Alice")
	const appTok = "app-check-secret-value"
	ts.do(req{method: "GET", path: "/v1/me?token=query-secret-value", token: alice.Token,
		header: map[string]string{AppCheckHeader: appTok, RequestIDHeader: "req-log-1"}})
	ts.do(req{method: "GET", path: "/v1/me", token: "garbage-secret-value"})
	logs := ts.logs.String()
	for _, secret := range []string{alice.Token, alice.Token[:40], appTok, "query-secret-value", "garbage-secret-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain a secret %q:\n%s", secret[:min(len(secret), 20)], logs)
		}
	}
	var found bool
	for _, line := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request" {
			continue
		}
		if rec["requestId"] == "req-log-1" {
			found = true
			hr, _ := rec["httpRequest"].(map[string]any)
			if rec["route"] != "/v1/me" || rec["uid"] != alice.UID ||
				hr["requestUrl"] != "/v1/me" || hr["status"] != 200.0 || hr["requestMethod"] != "GET" {
				t.Errorf("access log = %v", rec)
			}
			// httpRequest is the request's one record: no flat copies of its fields.
			for _, k := range []string{"method", "path", "status", "bytes", "latency", "ip", "userAgent"} {
				if _, dup := rec[k]; dup {
					t.Errorf("access log has %q besides httpRequest: %v", k, rec)
				}
			}
		}
	}
	if !found {
		t.Errorf("no access log line for req-log-1:\n%s", logs)
	}
}

// TestAccessLogCloudLogging: with Cloud Logging's handler (hearth serve's JSON logs),
// the access line of a traced request carries the trace, the span and httpRequest,
// and a line logged by a handler of that request carries the same trace.
func TestAccessLogCloudLogging(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	var buf emutest.Buffer
	ts := newTestServerEnv(t, env, func(c *Config, d *Deps) {
		d.Logger = slog.New(cloudlog.NewHandler(&buf, "demo-trace", &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	alice := ts.newUser("Alice")
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	ts.do(req{method: "GET", path: "/v1/me?x=1", token: alice.Token, header: map[string]string{
		"traceparent": "00-" + traceID + "-" + spanID + "-01", RequestIDHeader: "req-trace-1", "User-Agent": "hearth-test"}})
	var rec map[string]any
	for _, line := range strings.Split(buf.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["message"] == "request" && r["requestId"] == "req-trace-1" {
			rec = r
		}
	}
	if rec == nil {
		t.Fatalf("no access line for req-trace-1:\n%s", buf.String())
	}
	if got, want := rec["logging.googleapis.com/trace"], "projects/demo-trace/traces/"+traceID; got != want {
		t.Errorf("trace = %v, want %s", got, want)
	}
	if got := rec["logging.googleapis.com/spanId"]; got != spanID {
		t.Errorf("spanId = %v, want %s", got, spanID)
	}
	if rec["severity"] != "INFO" {
		t.Errorf("severity = %v, want INFO", rec["severity"])
	}
	hr, _ := rec["httpRequest"].(map[string]any)
	if hr["requestMethod"] != "GET" || hr["requestUrl"] != "/v1/me" || hr["status"] != 200.0 || hr["userAgent"] != "hearth-test" {
		t.Errorf("httpRequest = %v, want GET /v1/me (no query string) 200 hearth-test", hr)
	}
	if l, _ := hr["latency"].(string); !strings.HasSuffix(l, "s") {
		t.Errorf("httpRequest.latency = %q, want a protobuf duration like 0.012s", l)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice := ts.newUser("Alice")
	ts.call("GET", "/v1/me", alice.Token, nil, 200)
	ts.do(req{method: "GET", path: "/v1/rooms/nosuch", token: alice.Token})
	ts.do(req{method: "GET", path: "/no/such/path"})
	ts.do(req{method: "GET", path: "/v1/me"})
	body := string(ts.call("GET", "/metrics", "", nil, 200).Body)
	for _, want := range []string{
		`hearth_http_request_duration_seconds_bucket{method="GET",route="/v1/me",status="200",le="0.005"}`,
		`hearth_http_request_duration_seconds_count{method="GET",route="/v1/rooms/:roomId",status="404"} 1`,
		`hearth_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		`hearth_http_request_duration_seconds_count{method="GET",route="/v1/me",status="401"} 1`,
		`hearth_auth_verifications_total{result="ok",revocation_checked="false"} 2`,
		`hearth_auth_verifications_total{result="TOKEN_MISSING",revocation_checked="false"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/no/such/path") {
		t.Error("/metrics has an unmatched path as a label")
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, d *Deps) { c.RateLimit, c.RateBurst = 0.5, 2 })
	alice, bob := ts.newUser("Alice"), ts.newUser("Bob")
	ts.call("GET", "/v1/me", alice.Token, nil, 200)
	ts.call("GET", "/v1/me", alice.Token, nil, 200)
	resp := ts.do(req{method: "GET", path: "/v1/me", token: alice.Token})
	if resp.Code != 429 || resp.errorBody().Code != CodeResourceExhausted || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("third call = %s (Retry-After %q), want 429 RESOURCE_EXHAUSTED, Retry-After 2", resp, resp.Header.Get("Retry-After"))
	}
	ts.call("GET", "/v1/me", bob.Token, nil, 200) // another user's bucket
	ts.call("GET", "/healthz", "", nil, 200)      // ops are not limited
	ts.clock.Advance(2 * time.Second)
	ts.call("GET", "/v1/me", alice.Token, nil, 200)
	if resp := ts.do(req{method: "GET", path: "/v1/me", token: alice.Token}); resp.Code != 429 {
		t.Errorf("after one refill and one call = %d, want 429", resp.Code)
	}
	if m := string(ts.call("GET", "/metrics", "", nil, 200).Body); !strings.Contains(m, `hearth_http_rate_limited_total{route="/v1/me"} 2`) {
		t.Error("/metrics does not count the two rejections")
	}
}

func TestRateLimiterSweep(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := newRateLimiter(1, 1, clock)
	for i := range maxBuckets {
		l.allow(itoa(i))
	}
	clock.Advance(2 * time.Second) // every bucket is full again
	if ok, _ := l.allow("new"); !ok {
		t.Fatal("allow(new) = false")
	}
	if n := len(l.buckets); n != 1 {
		t.Errorf("buckets after sweep = %d, want 1", n)
	}
	if ok, wait := l.allow("new"); ok || wait != time.Second {
		t.Errorf("allow(new) again = %v, %s; want false, 1s", ok, wait)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.call("GET", "/healthz", "", nil, 200)
	var r readyResponse
	ts.call("GET", "/readyz", "", nil, 200).decode(t, &r)
	if r.Status != "ok" || r.Checks["firestore"] != "ok" || r.Checks["auth"] != "ok" {
		t.Errorf("/readyz = %+v", r)
	}
}

// TestGracefulShutdown: a request in flight when the context ends is
// finished, /readyz turns 503 meanwhile, and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	callers := newEventCallers(t)
	ts := newTestServer(t, callers.enable, func(c *Config, d *Deps) {
		d.Events = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			w.Write([]byte("done"))
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	inflight := make(chan string, 1)
	go func() {
		r, _ := http.NewRequest(http.MethodPost, base+"/events/slow", strings.NewReader("{}"))
		r.Header.Set("Authorization", "Bearer "+callers.token(eventsSA))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			inflight <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- string(b)
	}()
	<-entered
	cancel()
	// Draining: readiness fails (checked in process: the listener is closed).
	emutest.Eventually(t, 10*time.Second, func() error {
		if !ts.srv.draining.Load() {
			return errors.New("server not draining")
		}
		return nil
	})
	if resp := ts.do(req{method: "GET", path: "/readyz"}); resp.Code != 503 {
		t.Errorf("/readyz while draining = %d, want 503", resp.Code)
	}
	close(release)
	if got := <-inflight; got != "done" {
		t.Errorf("in-flight request = %q, want done", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v, want nil after a clean shutdown", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

func TestRunListensOnAddr(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ts := newTestServer(t, func(c *Config, d *Deps) { c.Addr = addr })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Run(ctx) }()
	emutest.Eventually(t, 10*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /healthz = %d, want 200", resp.StatusCode)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
	// A second server on a busy address fails at once.
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	ts2 := newTestServerEnv(t, ts.env, func(c *Config, d *Deps) { c.Addr = busy.Addr().String() })
	if err := ts2.srv.Run(t.Context()); err == nil {
		t.Error("Run() on a busy address = nil")
	}
}

// --- App Check ---

// appCheckKeys serves a JWKS and mints App Check tokens for it.
type appCheckKeys struct {
	key *rsa.PrivateKey
	kid string
}

func (k appCheckKeys) jwks() []byte {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	raw, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": b64(k.key.N.Bytes()), "e": b64(big.NewInt(int64(k.key.E)).Bytes()),
	}}})
	return raw
}

func (k appCheckKeys) token(project string, aud any, exp time.Time) string {
	b64 := func(v any) string {
		raw, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	signed := b64(map[string]string{"alg": "RS256", "kid": k.kid, "typ": "JWT"}) + "." + b64(map[string]any{
		"iss": "https://firebaseappcheck.googleapis.com/123456", "sub": "1:123456:android:abc",
		"aud": aud, "iat": time.Now().Add(-time.Minute).Unix(), "exp": exp.Unix(),
	})
	return signed + "." + rs256Sign(k.key, signed)
}

func rs256Sign(key *rsa.PrivateKey, signed string) string {
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(sig)
}

// TestAppCheck runs the three modes with the Admin SDK's App Check client
// against a local JWKS. Not parallel: the SDK's JWKS URL is a package
// variable.
func TestAppCheck(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	keys := appCheckKeys{key: key, kid: "ac-kid-1"}
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(keys.jwks())
	}))
	defer jwksSrv.Close()
	orig := appcheck.JWKSUrl
	appcheck.JWKSUrl = jwksSrv.URL
	defer func() { appcheck.JWKSUrl = orig }()

	env0 := newTestServer(t)
	project := env0.env.AuthProjectID
	app, err := firebase.NewApp(t.Context(), &firebase.Config{ProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := app.AppCheck(t.Context())
	if err != nil {
		t.Fatalf("AppCheck() = %v", err)
	}
	alice := env0.newUser("Alice")
	admin := env0.newAdmin("Root")
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	valid := keys.token(project, []string{"projects/123456", "projects/" + project}, time.Now().Add(time.Hour))
	tokens := map[string]string{
		"missing":      "",
		"valid":        valid,
		"expired":      keys.token(project, []string{"projects/" + project}, time.Now().Add(-time.Hour)),
		"other key":    appCheckKeys{key: other, kid: keys.kid}.token(project, []string{"projects/" + project}, time.Now().Add(time.Hour)),
		"wrong aud":    keys.token(project, []string{"projects/demo-other"}, time.Now().Add(time.Hour)),
		"aud a string": keys.token(project, "projects/"+project, time.Now().Add(time.Hour)), // panics inside the SDK
		"garbage":      "not-a-jwt",
	}
	want := map[AppCheckMode]map[string]int{
		AppCheckOff:     {"missing": 200, "valid": 200, "expired": 200, "other key": 200, "wrong aud": 200, "aud a string": 200, "garbage": 200},
		AppCheckMonitor: {"missing": 200, "valid": 200, "expired": 200, "other key": 200, "wrong aud": 200, "aud a string": 200, "garbage": 200},
		AppCheckEnforce: {"missing": 401, "valid": 200, "expired": 401, "other key": 401, "wrong aud": 401, "aud a string": 401, "garbage": 401},
	}
	for _, mode := range []AppCheckMode{AppCheckOff, AppCheckMonitor, AppCheckEnforce} {
		t.Run(string(mode), func(t *testing.T) {
			ts := newTestServerEnv(t, env0.env, func(c *Config, d *Deps) {
				c.AppCheck = mode
				d.AppCheck = ac
			})
			for name, tok := range tokens {
				resp := ts.do(req{method: "GET", path: "/v1/me", token: alice.Token, header: map[string]string{AppCheckHeader: tok}})
				if resp.Code != want[mode][name] {
					t.Errorf("%s token in %s mode = %s, want %d", name, mode, resp, want[mode][name])
				}
				if resp.Code == 401 {
					wantReason := ReasonAppCheckInvalid
					if tok == "" {
						wantReason = ReasonAppCheckMissing
					}
					if r := resp.errorBody().Reason; r != wantReason {
						t.Errorf("%s token: reason %s, want %s", name, r, wantReason)
					}
				}
				if name == "valid" && mode != AppCheckOff {
					var me meResponse
					resp.decode(t, &me)
					if me.AppID != "1:123456:android:abc" {
						t.Errorf("appId = %q, want the token's subject", me.AppID)
					}
				}
			}
			// Admin routes do not take App Check.
			ts.call("GET", "/admin/v1/stats", admin.Token, nil, 200)
			if mode == AppCheckMonitor && !strings.Contains(ts.logs.String(), "app check failed (monitor mode)") {
				t.Error("monitor mode did not log the failures")
			}
		})
	}
	t.Run("enforce needs a verifier", func(t *testing.T) {
		cfg := testConfig(env0.env)
		cfg.AppCheck = AppCheckEnforce
		if _, err := New(cfg, Deps{Firestore: env0.env.Firestore(), Auth: env0.env.Auth()}); err == nil {
			t.Error("New(enforce, no verifier) = nil error")
		}
	})
}
