package admin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/revocation"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// newFakeClock returns the Server's injected clock in tests. It starts at
// the real time (ID tokens and Firestore server timestamps are real), cut to
// milliseconds so times read back from Firestore (microseconds) compare
// equal, and moves only when told.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Now().Truncate(time.Millisecond)) }

// testServer is a Server on the test's emulator project, called in process
// through its handler.
type testServer struct {
	t     testing.TB
	env   *emutest.Env
	srv   *Server
	clock *clock.Fake
	logs  *emutest.Buffer
}

// testConfig is the config of test servers: the test's Firestore project,
// the Auth emulator's project, rate limiting generous enough not to get in
// the way.
func testConfig(env *emutest.Env) Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.FirestoreProject = env.ProjectID
	cfg.AuthProject = env.AuthProjectID
	cfg.RateLimit = 1000
	cfg.RateBurst = 1000
	return cfg
}

// newTestServer builds a server for t; mod may change the config and deps.
func newTestServer(t testing.TB, mod ...func(*Config, *Deps)) *testServer {
	t.Helper()
	env := emutest.New(t)
	return newTestServerEnv(t, env, mod...)
}

func newTestServerEnv(t testing.TB, env *emutest.Env, mod ...func(*Config, *Deps)) *testServer {
	t.Helper()
	ts := &testServer{t: t, env: env, clock: newFakeClock(), logs: &emutest.Buffer{}}
	cfg := testConfig(env)
	deps := Deps{
		Logger: slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  ts.clock,
	}
	for _, m := range mod {
		m(&cfg, &deps)
	}
	ownFirestore := deps.Firestore == nil // a test that brings its own may break it on purpose
	if ownFirestore {
		deps.Firestore = env.Firestore()
	}
	if deps.Auth == nil {
		deps.Auth = env.Auth()
	}
	injected := deps.Revocations != nil
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	ts.srv = srv
	if !injected {
		// As Serve does: the markers stay current while the test runs.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.revocations.Run(ctx)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
		if ownFirestore {
			// As a served instance is once it has read the markers: until then every
			// route asks Firebase Auth, which tests of the normal path must not see.
			emutest.Eventually(t, time.Minute, func() error {
				if !srv.revocations.Loaded() {
					return errors.New("the revocation markers were not read yet")
				}
				return nil
			})
		}
	}
	return ts
}

// newTestServerManualMarkers builds a server whose revocation markers are
// polled only when the test calls Poll (and measured by the test's clock),
// so a test decides when another instance learns of a marker.
func newTestServerManualMarkers(t testing.TB, mod ...func(*Config, *Deps)) (*testServer, *revocation.Markers) {
	t.Helper()
	env := emutest.New(t)
	var marks *revocation.Markers
	ts := newTestServerEnv(t, env, append(mod, func(c *Config, d *Deps) {
		m, err := revocation.New(revocation.Config{}, env.Firestore(), d.Clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		marks, d.Revocations = m, m
	})...)
	return ts, marks
}

// response is a recorded response.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// errorBody decodes the JSON error shape.
func (r response) errorBody() ErrorInfo {
	var e ErrorBody
	json.Unmarshal(r.Body, &e)
	return e.Error
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) String() string {
	return http.StatusText(r.Code) + " " + string(r.Body)
}

// req describes a request.
type req struct {
	method, path string
	token        string
	body         any // nil, string/[]byte (raw) or a value to marshal
	header       map[string]string
}

// do sends r through the server's handler.
func (ts *testServer) do(r req) response {
	ts.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatalf("marshal body: %v", err)
		}
		body = bytes.NewReader(raw)
	}
	hr := httptest.NewRequestWithContext(ts.t.Context(), r.method, r.path, body)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	ts.srv.Handler().ServeHTTP(w, hr)
	resp := response{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	ts.checkResponse(hr, resp)
	return resp
}

// call sends a request and fails the test unless the status is want.
func (ts *testServer) call(method, path, token string, body any, want int) response {
	ts.t.Helper()
	r := ts.do(req{method: method, path: path, token: token, body: body})
	if r.Code != want {
		ts.t.Fatalf("%s %s = %d %s, want %d", method, path, r.Code, r.Body, want)
	}
	return r
}

// user is an Auth emulator account for a test.
type user struct {
	UID, Email, Token, Refresh string
}

// newUser signs up a user (with a Firestore profile when name is not "").
func (ts *testServer) newUser(name string) user {
	ts.t.Helper()
	u := ts.env.NewUser(name)
	if name != "" {
		if _, err := ts.env.Firestore().Doc("users/"+u.UID).Set(ts.t.Context(), map[string]any{
			"displayName": name, "createdAt": time.Now(), "settings": map[string]any{},
		}); err != nil {
			ts.t.Fatalf("profile: %v", err)
		}
	}
	return user{UID: u.UID, Email: u.Email, Token: u.IDToken, Refresh: u.RefreshToken}
}

// signIn signs u in again with their password: a new session (a later
// auth_time), as an app does after its session was revoked.
func (ts *testServer) signIn(u user) user {
	ts.t.Helper()
	tok, err := ts.env.AuthREST().SignInWithPassword(ts.t.Context(), u.Email, "secret-password")
	if err != nil {
		ts.t.Fatalf("sign in %s: %v", u.Email, err)
	}
	u.Token, u.Refresh = tok.IDToken, tok.RefreshToken
	return u
}

// newAdmin signs up a user with the custom claim admin: true in its token.
func (ts *testServer) newAdmin(name string) user {
	ts.t.Helper()
	u := ts.newUser(name)
	if err := ts.env.Auth().SetCustomUserClaims(ts.t.Context(), u.UID, map[string]any{"admin": true}); err != nil {
		ts.t.Fatalf("SetCustomUserClaims: %v", err)
	}
	fresh := ts.env.Refresh(emutest.User{UID: u.UID, RefreshToken: u.Refresh})
	u.Token, u.Refresh = fresh.IDToken, fresh.RefreshToken
	return u
}

// emulatorToken forges an unsigned ID token of the Auth emulator's project
// (the emulator does not check signatures, so this is how tests get tokens
// with chosen iat and exp: expired ones, and ones older than a revocation,
// without waiting).
//
// emutest.FakeIDToken makes the same shape of token, but always issued now
// for an hour and with sign_in_provider "custom"; these tests need chosen
// times and a password sign-in.
func emulatorToken(project, uid string, iat, exp time.Time, claims map[string]any) string {
	return jwtSegment(map[string]string{"alg": "none", "typ": "JWT"}) + "." + jwtSegment(idTokenClaims(project, uid, iat, exp, claims)) + "."
}

// idTokenClaims is the payload of a Firebase ID token of project for uid
// (a password sign-in), issued at iat, expiring at exp, with extra claims
// (which win over the standard ones).
func idTokenClaims(project, uid string, iat, exp time.Time, claims map[string]any) map[string]any {
	payload := map[string]any{
		"iss": "https://securetoken.google.com/" + project, "aud": project,
		"iat": iat.Unix(), "exp": exp.Unix(), "auth_time": iat.Unix(),
		"sub": uid, "user_id": uid,
		"firebase": map[string]any{"sign_in_provider": "password", "identities": map[string]any{}},
	}
	for k, v := range claims {
		payload[k] = v
	}
	return payload
}

// jwtSegment encodes v as a JWT header or payload: base64url of its JSON.
func jwtSegment(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// room is a group room set up for a test.
type room struct {
	ID                                      string
	owner, admin, member, nonMember, admin2 user
}

// newRoom creates a group with an owner, a room admin and a member, plus a
// signed-up non-member.
func (ts *testServer) newRoom() room {
	ts.t.Helper()
	r := room{owner: ts.newUser("Olivia"), admin: ts.newUser("Adam"), member: ts.newUser("Mia"), nonMember: ts.newUser("Nora")}
	var out apiRoom
	ts.call("POST", "/v1/rooms", r.owner.Token, map[string]any{
		"title": "Team", "memberIds": []string{r.admin.UID, r.member.UID},
	}, http.StatusCreated).decode(ts.t, &out)
	r.ID = out.ID
	ts.call("PATCH", "/v1/rooms/"+r.ID+"/members/"+r.admin.UID, r.owner.Token, map[string]any{"role": "admin"}, http.StatusOK)
	return r
}

// addMessage writes a client message directly (as a mobile app would).
func (ts *testServer) addMessage(roomID, id, sender, text string, at time.Time) {
	ts.t.Helper()
	if _, err := ts.env.Firestore().Doc("rooms/"+roomID+"/messages/"+id).Set(ts.t.Context(), map[string]any{
		"senderId": sender, "type": "text", "text": text, "createdAt": at,
	}); err != nil {
		ts.t.Fatalf("add message: %v", err)
	}
}

// auditActions returns the actions of the project's audit log.
func (ts *testServer) auditActions() []string {
	ts.t.Helper()
	docs, err := ts.env.Firestore().Collection("auditLog").OrderBy("at", firestore.Asc).Documents(ts.t.Context()).GetAll()
	if err != nil {
		ts.t.Fatalf("audit log: %v", err)
	}
	var out []string
	for _, d := range docs {
		a, _ := d.Data()["action"].(string)
		out = append(out, a)
	}
	return out
}
