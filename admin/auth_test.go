package admin

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/revocation"
)

// TestAuthorizationMatrix sends one request of every route class as every
// kind of caller, through the real router and the Auth emulator.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	authClient := ts.env.Auth()
	project := ts.env.AuthProjectID
	r := ts.newRoom()
	appAdmin := ts.newAdmin("Root")
	now := time.Now()

	revoked := ts.newUser("Rex")
	if err := authClient.RevokeRefreshTokens(ctx, revoked.UID); err != nil {
		t.Fatal(err)
	}
	disabled := ts.newUser("Dis")
	if _, err := authClient.UpdateUser(ctx, disabled.UID, (&auth.UserToUpdate{}).Disabled(true)); err != nil {
		t.Fatal(err)
	}
	// A message already redacted: redacting it again changes nothing, so
	// every row can run the same request.
	ts.addMessage(r.ID, "m0", r.member.UID, "x", now)
	ts.call("POST", "/v1/rooms/"+r.ID+"/messages/m0/redact", r.owner.Token, nil, 200)

	principals := []struct {
		name, token string
	}{
		{"anonymous", ""},
		{"garbage", "not-a-jwt"},
		{"expired", emulatorToken(project, r.member.UID, now.Add(-2*time.Hour), now.Add(-time.Hour), nil)},
		{"revoked", emulatorToken(project, revoked.UID, now.Add(-30*time.Minute), now.Add(30*time.Minute), nil)},
		{"disabled", disabled.Token},
		{"deleted", emulatorToken(project, "gone-"+ts.env.ProjectID, now, now.Add(time.Hour), nil)},
		{"non-member", r.nonMember.Token},
		{"member", r.member.Token},
		{"room admin", r.admin.Token},
		{"room owner", r.owner.Token},
		{"app admin", appAdmin.Token},
	}
	room := "/v1/rooms/" + r.ID
	classes := []struct {
		name string
		req  func(name string) req
	}{
		{"ops", func(string) req { return req{method: "GET", path: "/healthz"} }},
		{"me", func(string) req { return req{method: "GET", path: "/v1/me"} }},
		{"create room", func(string) req {
			return req{method: "POST", path: "/v1/rooms", body: map[string]any{"title": "Mine"}}
		}},
		{"room read", func(string) req { return req{method: "GET", path: room} }},
		{"history", func(string) req { return req{method: "GET", path: room + "/messages?limit=2"} }},
		{"add members", func(string) req {
			return req{method: "POST", path: room + "/members", body: map[string]any{"userIds": []string{r.member.UID}}}
		}},
		{"change role", func(string) req {
			return req{method: "PATCH", path: room + "/members/" + r.member.UID, body: map[string]any{"role": "member"}}
		}},
		{"redact", func(string) req { return req{method: "POST", path: room + "/messages/m0/redact"} }},
		{"device", func(name string) req {
			return req{method: "PUT", path: "/v1/devices/d1", body: map[string]any{"token": "tok-" + strings.ReplaceAll(name, " ", "-") + ts.env.ProjectID, "platform": "web"}}
		}},
		{"admin read", func(string) req { return req{method: "GET", path: "/admin/v1/stats"} }},
		{"admin write", func(string) req { return req{method: "POST", path: "/admin/v1/rooms/" + r.ID + "/unarchive"} }},
	}
	// Expected status per principal, in the order of classes.
	const u = 401
	want := map[string][]int{
		"anonymous":  {200, u, u, u, u, u, u, u, u, u, u},
		"garbage":    {200, u, u, u, u, u, u, u, u, u, u},
		"expired":    {200, u, u, u, u, u, u, u, u, u, u},
		"revoked":    {200, u, u, u, u, u, u, u, u, u, u},
		"disabled":   {200, u, u, u, u, u, u, u, u, u, u},
		"deleted":    {200, u, u, u, u, u, u, u, u, u, u},
		"non-member": {200, 200, 201, 404, 404, 404, 404, 404, 200, 403, 403},
		"member":     {200, 200, 201, 200, 200, 403, 403, 403, 200, 403, 403},
		"room admin": {200, 200, 201, 200, 200, 200, 403, 200, 200, 403, 403},
		"room owner": {200, 200, 201, 200, 200, 200, 200, 200, 200, 403, 403},
		"app admin":  {200, 200, 201, 404, 404, 404, 404, 404, 200, 200, 200},
	}
	reasons := map[string]string{
		"anonymous": ReasonTokenMissing, "garbage": ReasonTokenInvalid, "expired": ReasonTokenExpired,
		"revoked": ReasonTokenRevoked, "disabled": ReasonUserDisabled, "deleted": ReasonUserNotFound,
	}
	for _, p := range principals {
		for i, cl := range classes {
			rq := cl.req(p.name)
			rq.token = p.token
			resp := ts.do(rq)
			if w := want[p.name][i]; resp.Code != w {
				t.Errorf("%s as %s: %s %s = %s, want %d", cl.name, p.name, rq.method, rq.path, resp, w)
				continue
			}
			if resp.Code == 401 {
				if e := resp.errorBody(); e.Code != CodeUnauthenticated || e.Reason != reasons[p.name] {
					t.Errorf("%s as %s: error = %+v, want UNAUTHENTICATED %s", cl.name, p.name, e, reasons[p.name])
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s as %s: 401 without WWW-Authenticate", cl.name, p.name)
				}
			}
			if resp.Code == 403 && cl.name[:5] == "admin" && resp.errorBody().Reason != ReasonAdminRequired {
				t.Errorf("%s as %s: reason %q, want %s", cl.name, p.name, resp.errorBody().Reason, ReasonAdminRequired)
			}
		}
	}
}

func TestBearerParsing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		tok    string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"  Bearer   abc  ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if tok, ok := bearerToken(tt.header); tok != tt.tok || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, tok, ok, tt.tok, tt.ok)
		}
	}
}

// hangingListener accepts connections and never answers: an Auth or
// Firestore backend that is up but stuck.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestAuthBackendUnavailable: a stuck Auth backend gives 503 UNAVAILABLE
// after AuthTimeout (not a hang, not a 500), and /readyz reports it.
// Not parallel: it points the SDKs at dead hosts with t.Setenv.
func TestAuthBackendUnavailable(t *testing.T) {
	ts0 := newTestServer(t) // a project and users from the working suite
	alice := ts0.newUser("Alice")
	stuck := hangingListener(t)
	refused := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	for _, tt := range []struct{ name, host string }{{"stuck", stuck}, {"refused", refused}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", tt.host)
			dead, err := NewAuthClient(t.Context(), ts0.env.AuthProjectID)
			if err != nil {
				t.Fatal(err)
			}
			ts := newTestServerEnv(t, ts0.env, func(c *Config, d *Deps) {
				c.AuthTimeout = 300 * time.Millisecond
				d.Auth = dead
			})
			for _, rq := range []req{{method: "GET", path: "/v1/me"}, {method: "PUT", path: "/v1/devices/d1", body: map[string]string{"token": "t", "platform": "web"}}} {
				rq.token = alice.Token
				resp := ts.do(rq)
				if e := resp.errorBody(); resp.Code != http.StatusServiceUnavailable || e.Code != CodeUnavailable || e.Reason != ReasonAuthUnavailable {
					t.Errorf("%s %s with Auth %s = %s, want 503 UNAVAILABLE %s", rq.method, rq.path, tt.name, resp, ReasonAuthUnavailable)
				}
				if resp.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
			}
			var ready readyResponse
			resp := ts.do(req{method: "GET", path: "/readyz"})
			resp.decode(t, &ready)
			if resp.Code != 503 || ready.Checks["auth"] != "unavailable" || ready.Checks["firestore"] != "ok" {
				t.Errorf("/readyz = %s, want 503 with auth unavailable, firestore ok", resp)
			}
			// Garbage is refused before any RPC: still 401.
			if resp := ts.do(req{method: "GET", path: "/v1/me", token: "not-a-jwt"}); resp.Code != 401 {
				t.Errorf("garbage token with Auth down = %s, want 401", resp)
			}
		})
	}
	t.Run("firestore down", func(t *testing.T) {
		t.Setenv("FIRESTORE_EMULATOR_HOST", stuck)
		fs, err := firestore.NewClient(t.Context(), ts0.env.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		defer fs.Close()
		ts := newTestServerEnv(t, ts0.env, func(c *Config, d *Deps) {
			d.Firestore = fs
			c.RequestTimeout = 300 * time.Millisecond
		})
		var ready readyResponse
		resp := ts.do(req{method: "GET", path: "/readyz"})
		resp.decode(t, &ready)
		if resp.Code != 503 || ready.Checks["firestore"] != "unavailable" || ready.Checks["auth"] != "ok" {
			t.Errorf("/readyz = %s, want 503 with firestore unavailable, auth ok", resp)
		}
		if resp := ts.do(req{method: "GET", path: "/v1/rooms/r1", token: alice.Token}); resp.Code != 503 {
			t.Errorf("GET room with Firestore stuck = %s, want 503 after the request timeout", resp)
		}
	})
}

// --- production RS256 path ---

// rs256Auth is an Admin SDK Auth client on the production (non-emulator)
// path whose Google public keys come from a local key server, and whose
// user-management calls (the revocation check) go to the Auth emulator.
type rs256Auth struct {
	client  *auth.Client
	key     *rsa.PrivateKey
	kid     string
	project string
	fetches *atomic.Int32
}

// newRS256Auth builds the client. The SDK has no option to give the ID
// token verifier an HTTP client: its key fetcher clones
// http.DefaultTransport inside app.Auth(). So this swaps the default
// transport for one that dials www.googleapis.com:443 to a local plain-HTTP
// key server, builds the client, and restores the transport at once. It
// must not run in parallel with anything (t.Setenv enforces it for tests).
func newRS256Auth(tb testing.TB, project, authEmulatorHost string, keyHandler http.Handler) *rs256Auth {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	ra := &rs256Auth{key: key, kid: "local-test-kid-1", project: project, fetches: new(atomic.Int32)}
	if keyHandler == nil {
		certPEM := selfSignedCert(tb, key)
		keyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ra.fetches.Add(1)
			w.Header().Set("Cache-Control", "public, max-age=3600") // without it the SDK refetches every time
			json.NewEncoder(w).Encode(map[string]string{ra.kid: certPEM})
		})
	}
	keySrv := httptest.NewServer(keyHandler)
	tb.Cleanup(keySrv.Close)

	tb.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "") // the production path
	orig := http.DefaultTransport
	http.DefaultTransport = &http.Transport{
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != "www.googleapis.com:443" {
				return nil, errors.New("blocked in test: " + addr)
			}
			// A plain connection: net/http then speaks HTTP/1.1 to the key server.
			return (&net.Dialer{}).DialContext(ctx, "tcp", keySrv.Listener.Addr().String())
		},
	}
	defer func() { http.DefaultTransport = orig }()
	users := &http.Client{Transport: toEmulator{host: authEmulatorHost}}
	app, err := firebase.NewApp(tb.Context(), &firebase.Config{ProjectID: project}, option.WithHTTPClient(users))
	if err != nil {
		tb.Fatal(err)
	}
	if ra.client, err = app.Auth(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return ra
}

// toEmulator sends the SDK's production identitytoolkit calls to the Auth
// emulator, as its admin ("Bearer owner").
type toEmulator struct{ host string }

func (e toEmulator) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "identitytoolkit.googleapis.com" {
		return nil, errors.New("blocked in test: " + r.URL.String())
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Path = "http", "/identitytoolkit.googleapis.com"+r.URL.Path
	r.URL.Host, r.Host = e.host, e.host
	r.Header.Set("Authorization", "Bearer owner")
	return http.DefaultTransport.RoundTrip(r)
}

func selfSignedCert(tb testing.TB, key *rsa.PrivateKey) string {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "securetoken.system.gserviceaccount.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// token mints a Firebase-shaped RS256 ID token; key and kid default to the
// client's.
func (ra *rs256Auth) token(uid string, iat, exp time.Time, claims map[string]any) string {
	return mintRS256(ra.key, ra.kid, ra.project, uid, iat, exp, claims)
}

func mintRS256(key *rsa.PrivateKey, kid, project, uid string, iat, exp time.Time, claims map[string]any) string {
	signed := jwtSegment(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"}) + "." + jwtSegment(idTokenClaims(project, uid, iat, exp, claims))
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestProductionRS256 runs the API on the production verification path:
// signatures checked against (locally served) Google keys, revocation and
// disabled checks through the Auth backend on the routes that need them.
// Not parallel: newRS256Auth swaps http.DefaultTransport for a moment.
func TestProductionRS256(t *testing.T) {
	env0 := newTestServer(t)
	emu := env0.env.Auth() // an emulator client, made before the switch to production
	ra := newRS256Auth(t, env0.env.AuthProjectID, env0.env.AuthHost, nil)
	var marks *revocation.Markers
	ts := newTestServerEnv(t, env0.env, func(c *Config, d *Deps) {
		d.Auth = ra.client
		m, err := revocation.New(revocation.Config{}, env0.env.Firestore(), d.Clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		marks, d.Revocations = m, m
	})
	ctx := t.Context()
	if err := marks.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	alice, rex, dis, ada := ts.newUser("Alice"), ts.newUser("Rex"), ts.newUser("Dis"), ts.newUser("Ada")
	// The tokens are issued after the accounts exist: Firebase Auth refuses a token
	// issued (to the second) before an account's valid-since time, its creation.
	now := time.Now()
	if err := emu.SetCustomUserClaims(ctx, ada.UID, map[string]any{"admin": true}); err != nil {
		t.Fatal(err)
	}
	// rex's sessions ended through Hearth (what revoke-tokens does): refresh
	// tokens revoked, then the marker. dis is disabled outside Hearth (the
	// Firebase console): no marker.
	if err := emu.RevokeRefreshTokens(ctx, rex.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := marks.Revoke(ctx, rex.UID, revocation.ReasonRevoke); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.UpdateUser(ctx, dis.UID, (&auth.UserToUpdate{}).Disabled(true)); err != nil {
		t.Fatal(err)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	valid := ra.token(alice.UID, now, now.Add(time.Hour), nil)
	parts := strings.Split(valid, ".")
	forgedPayload, _ := json.Marshal(map[string]any{"iss": "https://securetoken.google.com/" + ra.project, "aud": ra.project,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "sub": rex.UID, "admin": true})
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2]
	iatOld := now.Add(-10 * time.Minute)

	read := req{method: "GET", path: "/v1/me"}
	write := req{method: "PUT", path: "/v1/devices/d1", body: map[string]string{"token": "tok-" + env0.env.ProjectID, "platform": "ios"}}
	adminRead := req{method: "GET", path: "/admin/v1/stats"}
	tests := []struct {
		name       string
		token      string
		rq         req
		want       int
		wantReason string
	}{
		{"valid", valid, read, 200, ""},
		{"valid write", valid, write, 200, ""},
		{"tampered payload", tampered, read, 401, ReasonTokenInvalid},
		{"other key, same kid", mintRS256(otherKey, ra.kid, ra.project, alice.UID, now, now.Add(time.Hour), nil), read, 401, ReasonTokenInvalid},
		{"unknown kid", mintRS256(ra.key, "other-kid", ra.project, alice.UID, now, now.Add(time.Hour), nil), read, 401, ReasonTokenInvalid},
		{"wrong audience", mintRS256(ra.key, ra.kid, "demo-other", alice.UID, now, now.Add(time.Hour), nil), read, 401, ReasonTokenInvalid},
		{"expired", ra.token(alice.UID, now.Add(-2*time.Hour), now.Add(-time.Hour), nil), read, 401, ReasonTokenExpired},
		{"within clock skew", ra.token(alice.UID, now.Add(-time.Hour), now.Add(-2*time.Minute), nil), read, 200, ""},
		{"unsigned emulator token", emulatorToken(ra.project, alice.UID, now, now.Add(time.Hour), nil), read, 401, ReasonTokenInvalid},
		{"garbage", "a.b.c", read, 401, ReasonTokenInvalid},
		// The revocation policy: every route checks the marker in memory
		// (no RPC); admin routes read the live account from Firebase Auth.
		{"revoked by Hearth, read", ra.token(rex.UID, iatOld, now.Add(time.Hour), nil), read, 401, ReasonTokenRevoked},
		{"revoked by Hearth, write", ra.token(rex.UID, iatOld, now.Add(time.Hour), nil), write, 401, ReasonTokenRevoked},
		{"revoked by Hearth, admin", ra.token(rex.UID, iatOld, now.Add(time.Hour), map[string]any{"admin": true}), adminRead, 401, ReasonTokenRevoked},
		{"revoked by Hearth, new session", ra.token(rex.UID, time.Now(), time.Now().Add(time.Hour), nil), write, 200, ""},
		// Outside Hearth there is no marker: /v1 learns of it only when the
		// token expires (or while the markers are stale, below); /admin/v1
		// at once.
		{"disabled outside Hearth, read", ra.token(dis.UID, now, now.Add(time.Hour), nil), read, 200, ""},
		{"disabled outside Hearth, write", ra.token(dis.UID, now, now.Add(time.Hour), nil), write, 200, ""},
		{"disabled outside Hearth, admin", ra.token(dis.UID, now, now.Add(time.Hour), map[string]any{"admin": true}), adminRead, 401, ReasonUserDisabled},
		{"deleted outside Hearth, admin", ra.token("gone-"+env0.env.ProjectID, now, now.Add(time.Hour), map[string]any{"admin": true}), adminRead, 401, ReasonUserNotFound},
		{"live admin claim", ra.token(ada.UID, now, now.Add(time.Hour), map[string]any{"admin": true}), adminRead, 200, ""},
		{"admin claim in the token only", ra.token(alice.UID, now, now.Add(time.Hour), map[string]any{"admin": true}), adminRead, 403, ReasonAdminRequired},
		{"no admin claim", valid, adminRead, 403, ReasonAdminRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := tt.rq
			rq.token = tt.token
			resp := ts.do(rq)
			if resp.Code != tt.want || resp.errorBody().Reason != tt.wantReason {
				t.Errorf("%s %s = %s, want %d %q", rq.method, rq.path, resp, tt.want, tt.wantReason)
			}
		})
	}
	// Markers stale (no successful poll for StaleAfter): writes ask
	// Firebase Auth, which knows of the disabled account.
	ts.clock.Advance(revocation.DefaultStaleAfter + time.Millisecond)
	rq := write
	rq.token = ra.token(dis.UID, now, now.Add(time.Hour), nil)
	if resp := ts.do(rq); resp.Code != 401 || resp.errorBody().Reason != ReasonUserDisabled {
		t.Errorf("disabled outside Hearth, write with stale markers = %s, want 401 %s", resp, ReasonUserDisabled)
	}
	if n := ra.fetches.Load(); n != 1 {
		t.Errorf("key server fetched %d times, want 1 (cached by max-age)", n)
	}
}

// TestKeyEndpointDown: on the production path, Google's key endpoint
// failing or hanging is 503, not 401 (the client must retry, not sign out).
func TestKeyEndpointDown(t *testing.T) {
	env0 := newTestServer(t)
	release := make(chan struct{})
	defer close(release)
	for _, tt := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ra := newRS256Auth(t, env0.env.AuthProjectID, env0.env.AuthHost, tt.h)
			ts := newTestServerEnv(t, env0.env, func(c *Config, d *Deps) {
				d.Auth = ra.client
				c.AuthTimeout = 300 * time.Millisecond
			})
			resp := ts.do(req{method: "GET", path: "/v1/me", token: ra.token("u1", time.Now(), time.Now().Add(time.Hour), nil)})
			if resp.Code != 503 || resp.errorBody().Reason != ReasonAuthUnavailable {
				t.Errorf("GET /v1/me with key endpoint %s = %s, want 503 %s", tt.name, resp, ReasonAuthUnavailable)
			}
		})
	}
}

// countingAuth counts the verifications that reach the Auth client.
type countingAuth struct {
	*auth.Client
	plain, revocation, getUser atomic.Int32
}

func (c *countingAuth) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	c.getUser.Add(1)
	return c.Client.GetUser(ctx, uid)
}

func (c *countingAuth) VerifyIDToken(ctx context.Context, tok string) (*auth.Token, error) {
	c.plain.Add(1)
	return c.Client.VerifyIDToken(ctx, tok)
}

func (c *countingAuth) VerifyIDTokenAndCheckRevoked(ctx context.Context, tok string) (*auth.Token, error) {
	c.revocation.Add(1)
	return c.Client.VerifyIDTokenAndCheckRevoked(ctx, tok)
}

func TestTokenCache(t *testing.T) {
	t.Parallel()
	var counter *countingAuth
	ts, marks := newTestServerManualMarkers(t, func(c *Config, d *Deps) {
		counter = &countingAuth{Client: emutest.New(t).Auth()}
		d.Auth = counter
	})
	if err := marks.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	alice := ts.newUser("Alice")
	for range 3 {
		ts.call("GET", "/v1/me", alice.Token, nil, 200)
	}
	if n := counter.plain.Load(); n != 1 {
		t.Errorf("3 reads with one token: %d verifications, want 1", n)
	}
	// Writes use the cache too while the revocation markers are current:
	// no Firebase Auth round trip per write.
	for range 2 {
		ts.call("DELETE", "/v1/devices/d1", alice.Token, nil, 204)
	}
	if p, r, g := counter.plain.Load(), counter.revocation.Load(), counter.getUser.Load(); p != 1 || r != 0 || g != 0 {
		t.Errorf("2 writes with current markers: %d plain and %d revocation-checked verifications, %d user lookups; want 1, 0, 0", p, r, g)
	}
	// Markers stale (no successful poll for StaleAfter): writes ask Firebase
	// Auth, reads do not.
	ts.clock.Advance(revocation.DefaultStaleAfter + time.Millisecond)
	ts.call("DELETE", "/v1/devices/d1", alice.Token, nil, 204)
	ts.call("GET", "/v1/me", alice.Token, nil, 200)
	if p, r := counter.plain.Load(), counter.revocation.Load(); p != 1 || r != 1 {
		t.Errorf("a write and a read with stale markers: %d plain and %d revocation-checked verifications, want 1 and 1", p, r)
	}
	if err := marks.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	ts.call("DELETE", "/v1/devices/d1", alice.Token, nil, 204)
	if r := counter.revocation.Load(); r != 1 {
		t.Errorf("a write after the markers are current again: %d revocation-checked verifications, want still 1", r)
	}
	ts.do(req{method: "GET", path: "/v1/me", token: "not-a-jwt"})
	ts.do(req{method: "GET", path: "/v1/me", token: "not-a-jwt"})
	if n := counter.plain.Load(); n != 3 {
		t.Errorf("after 2 bad tokens: %d verifications, want 3 (failures are not cached)", n)
	}
	// Past the token's expiry (by the server's clock) the entry is not
	// used: the SDK verifies again (and, on its real clock, accepts).
	ts.clock.Advance(2 * time.Hour)
	ts.call("GET", "/v1/me", alice.Token, nil, 200)
	if n := counter.plain.Load(); n != 4 {
		t.Errorf("read after expiry: %d verifications, want 4", n)
	}
}

func TestTokenCacheForgetsUser(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := newTokenCache(100, clock)
	exp := clock.Now().Add(time.Hour).Unix()
	c.put("a1", &auth.Token{UID: "alice", Expires: exp})
	c.put("a2", &auth.Token{UID: "alice", Expires: exp})
	c.put("b1", &auth.Token{UID: "bob", Expires: exp})
	c.forgetUser("alice")
	_, a1 := c.get("a1")
	_, a2 := c.get("a2")
	_, b1 := c.get("b1")
	if a1 || a2 || !b1 {
		t.Errorf("after forgetUser(alice): a1 %v, a2 %v, b1 %v cached; want only b1", a1, a2, b1)
	}
}

func TestTokenCacheBounded(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := newTokenCache(100, clock)
	exp := clock.Now().Add(time.Hour).Unix()
	for i := range 1000 {
		c.put(itoa(i), &auth.Token{UID: itoa(i), Expires: exp})
		if len(c.entries) > 100 {
			t.Fatalf("cache grew to %d entries, max 100", len(c.entries))
		}
	}
	if _, ok := c.get("999"); !ok {
		t.Error("the newest entry was evicted")
	}
	c.put("old", &auth.Token{Expires: clock.Now().Unix() - 1})
	if _, ok := c.get("old"); ok {
		t.Error("an expired token was cached")
	}
}

// TestTokenCacheKey: the key is the SHA-256 of the whole token whatever its length, so
// tokens that differ anywhere, also past 4 KiB, are different entries.
func TestTokenCacheKey(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 1000, 4<<10 - 1, 4 << 10, 4<<10 + 1, 64 << 10} {
		raw := strings.Repeat("a", n)
		if got, want := tokenKey(raw), sha256.Sum256([]byte(raw)); got != want {
			t.Errorf("tokenKey(%d bytes) = %x, want SHA-256 %x", n, got, want)
		}
	}
	clock := newFakeClock()
	c := newTokenCache(100, clock)
	exp := clock.Now().Add(time.Hour).Unix()
	long := strings.Repeat("x", 5<<10)
	c.put(long+"1", &auth.Token{UID: "alice", Expires: exp})
	if _, ok := c.get(long + "2"); ok {
		t.Error("a token differing only past 4 KiB hit another token's entry")
	}
	if tok, ok := c.get(long + "1"); !ok || tok.UID != "alice" {
		t.Errorf("get(the long token) = %v, %v; want alice's entry", tok, ok)
	}
}
