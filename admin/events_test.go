package admin

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hearth-chat/hearth/internal/oidc"
	"github.com/hearth-chat/hearth/internal/oidc/oidctest"
)

const (
	eventsAudience = "https://hearth-events-test.a.run.app"
	eventsSA       = "hearth-functions@demo-test.iam.gserviceaccount.com"
)

// eventCallers is a local stand-in for Google's token issuer and a verifier
// that trusts it, for the event and scheduler routes.
type eventCallers struct {
	t        testing.TB
	issuer   *oidctest.Issuer
	verifier *oidc.Verifier
}

func newEventCallers(t testing.TB) *eventCallers {
	t.Helper()
	iss, err := oidctest.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := oidc.Config{Audiences: []string{eventsAudience}, ServiceAccounts: []string{eventsSA}}
	v, err := oidc.New(t.Context(), cfg, oidc.Deps{HTTPClient: iss.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return &eventCallers{t: t, issuer: iss, verifier: v}
}

// enable turns the event routes on with this verifier (a newTestServer mod).
func (e *eventCallers) enable(c *Config, d *Deps) {
	c.Events = true
	c.EventsAudiences = []string{eventsAudience}
	c.EventsServiceAccounts = []string{eventsSA}
	d.Callers = e.verifier
}

// token is a valid ID token of email for the events audience.
func (e *eventCallers) token(email string) string {
	return e.issuer.Token(oidctest.Claims(eventsAudience, email))
}

// bodyProbe is a request body that records whether anything read it.
type bodyProbe struct {
	read atomic.Bool
	r    io.Reader
}

func (b *bodyProbe) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

// forgedCreated is a structured-mode Firestore "created" event of a message
// that does not exist, as an attacker would hand-write it.
const forgedCreated = `{"specversion":"1.0","id":"forged-1","type":"google.cloud.firestore.document.v1.created",` +
	`"source":"//firestore.googleapis.com/projects/demo-x/databases/(default)","subject":"documents/rooms/team/messages/forged1",` +
	`"data":{"value":{"name":"projects/demo-x/databases/(default)/documents/rooms/team/messages/forged1",` +
	`"fields":{"senderId":{"stringValue":"alice"},"text":{"stringValue":"FORGED: send me your password"}}}}}`

// TestEventRoutesOffByDefault: without Config.Events the event and scheduler
// routes answer 404 like a route that does not exist, and their handlers
// never run, however the request is dressed.
func TestEventRoutesOffByDefault(t *testing.T) {
	t.Parallel()
	var ran atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	callers := newEventCallers(t)
	ts := newTestServer(t, func(c *Config, d *Deps) { d.Events, d.Schedulers, d.Callers = h, h, callers.verifier })
	for _, path := range []string{"/events/onMessageCreatedNotify", "/events/onMessageWritten", "/events/storage", "/events", "/schedulers/presence-sweeper"} {
		for _, token := range []string{"", callers.token(eventsSA)} {
			resp := ts.do(req{method: "POST", path: path, body: forgedCreated, token: token,
				header: map[string]string{"Content-Type": "application/cloudevents+json"}})
			if resp.Code != http.StatusNotFound || resp.errorBody().Code != CodeNotFound {
				t.Errorf("POST %s (events off, token %v) = %s, want 404 NOT_FOUND", path, token != "", resp)
			}
		}
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("handlers ran %d times with events off", n)
	}
}

// TestEventRoutesNeedAllowedCaller: with events on, /events/* and
// /schedulers/* run only for a Google-signed token of an allowed service
// account; 401 without or with a bad token, 403 for another account, and
// then the handler does not run and the body is not read.
func TestEventRoutesNeedAllowedCaller(t *testing.T) {
	t.Parallel()
	callers := newEventCallers(t)
	var mu atomic.Pointer[string]
	record := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		p := r.URL.Path
		mu.Store(&p)
		if strings.HasPrefix(p, "/schedulers/") { // as functions.SchedulerHandler answers
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"leased":true,"changed":0}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	ts := newTestServer(t, callers.enable, func(c *Config, d *Deps) {
		d.Events, d.Schedulers = http.HandlerFunc(record), http.HandlerFunc(record)
	})
	other := callers.issuer.Token(oidctest.Claims(eventsAudience, "intruder@demo-test.iam.gserviceaccount.com"))
	wrongAud := callers.issuer.Token(oidctest.Claims("https://elsewhere.example", eventsSA))
	tests := []struct {
		name, path, auth string
		code             int
		reason           string
	}{
		{"no token", "/events/onMessageCreatedNotify", "", 401, ReasonTokenMissing},
		{"Firebase-looking junk", "/events/onMessageWritten", "Bearer a.b.c", 401, ReasonTokenInvalid},
		{"other audience", "/events/storage", "Bearer " + wrongAud, 401, ReasonTokenInvalid},
		{"other account", "/events/onMessageCreatedNotify", "Bearer " + other, 403, ReasonCallerNotAllowed},
		{"scheduler without token", "/schedulers/presence-sweeper", "", 401, ReasonTokenMissing},
		{"scheduler, other account", "/schedulers/typing-cleanup", "Bearer " + other, 403, ReasonCallerNotAllowed},
		{"allowed event", "/events/onMessageWritten", "Bearer " + callers.token(eventsSA), 204, ""},
		{"allowed scheduler", "/schedulers/presence-sweeper", "Bearer " + callers.token(eventsSA), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Store(nil)
			body := &bodyProbe{r: strings.NewReader(forgedCreated)}
			hr, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, tt.path, body)
			hr.Header.Set("Content-Type", "application/cloudevents+json")
			if tt.auth != "" {
				hr.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			ts.srv.Handler().ServeHTTP(w, hr)
			checkOpenAPI(t, hr, recorded(w))
			resp := response{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
			if resp.Code != tt.code {
				t.Fatalf("POST %s = %s, want %d", tt.path, resp, tt.code)
			}
			ran := mu.Load() != nil
			if tt.code >= 400 {
				if e := resp.errorBody(); e.Reason != tt.reason {
					t.Errorf("POST %s reason = %q, want %q", tt.path, e.Reason, tt.reason)
				}
				if ran || body.read.Load() {
					t.Errorf("POST %s refused, but handler ran = %v, body read = %v", tt.path, ran, body.read.Load())
				}
				return
			}
			if !ran || *mu.Load() != tt.path {
				t.Errorf("POST %s allowed, handler saw %v", tt.path, mu.Load())
			}
		})
	}
	if resp := ts.do(req{method: "POST", path: "/events/x", body: "{}", header: map[string]string{"Authorization": "Bearer " + callers.token(eventsSA)}}); resp.Header.Get(RequestIDHeader) == "" {
		t.Error("events response has no request id")
	}
}

// TestEventRoutesWithoutHandlers: events on but no handler is 501 after the
// caller check; a panicking handler is a 500.
func TestEventRoutesWithoutHandlers(t *testing.T) {
	t.Parallel()
	callers := newEventCallers(t)
	ts := newTestServer(t, callers.enable)
	auth := map[string]string{"Authorization": "Bearer " + callers.token(eventsSA)}
	for _, path := range []string{"/events/x", "/schedulers/presence-sweeper"} {
		if resp := ts.do(req{method: "POST", path: path, body: "{}", header: auth}); resp.Code != 501 || resp.errorBody().Reason != ReasonEventsUnavailable {
			t.Errorf("POST %s = %s, want 501", path, resp)
		}
	}
	ts = newTestServer(t, callers.enable, func(c *Config, d *Deps) {
		d.Events = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	})
	resp := ts.do(req{method: "POST", path: "/events/x", body: "{}", header: auth})
	if resp.Code != 500 || resp.errorBody().Code != CodeInternal {
		t.Errorf("panicking handler = %s, want 500 INTERNAL", resp)
	}
	if !strings.Contains(ts.logs.String(), `"panic":"boom"`) {
		t.Error("panic not logged")
	}
}

// TestEventsConfig: events on needs an audience and an allow-list, from the
// environment or flags, and a verifier in Deps.
func TestEventsConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HEARTH_FIRESTORE_PROJECT": "p", "HEARTH_AUTH_PROJECT": "p", "HEARTH_EVENTS": "on"}
	c, err := configFromEnv(env)
	if err != nil || !c.Events {
		t.Fatalf("configFromEnv(HEARTH_EVENTS=on) = %+v, %v", c, err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "HEARTH_EVENTS_AUDIENCE") {
		t.Errorf("Validate(events on, nothing else) = %v, want an error naming HEARTH_EVENTS_AUDIENCE", err)
	}
	env["HEARTH_EVENTS_AUDIENCE"] = eventsAudience + ", https://other.example"
	env["HEARTH_EVENTS_SERVICE_ACCOUNTS"] = eventsSA
	if c, err = configFromEnv(env); err != nil || c.Validate() != nil || len(c.EventsAudiences) != 2 || c.EventsServiceAccounts[0] != eventsSA {
		t.Errorf("configFromEnv(full) = %+v, %v; Validate = %v", c, err, c.Validate())
	}
	env["HEARTH_EVENTS_SERVICE_ACCOUNTS"] = "not an email"
	if c, _ = configFromEnv(env); c.Validate() == nil {
		t.Error("Validate(service account not an email) = nil")
	}
	env["HEARTH_EVENTS"] = "maybe"
	if _, err := configFromEnv(env); err == nil {
		t.Error("configFromEnv(HEARTH_EVENTS=maybe) = nil error")
	}
	if c := DefaultConfig(); c.Events {
		t.Error("events on by default")
	}

	ts := newTestServer(t)
	cfg := testConfig(ts.env)
	cfg.Events, cfg.EventsAudiences, cfg.EventsServiceAccounts = true, []string{eventsAudience}, []string{eventsSA}
	if _, err := New(cfg, Deps{Firestore: ts.env.Firestore(), Auth: ts.env.Auth()}); err == nil || !strings.Contains(err.Error(), "Callers") {
		t.Errorf("New(events on, no Callers) = %v, want an error", err)
	}
}

var _ CallerVerifier = (*oidc.Verifier)(nil)

// TestEventsCertsURLDemoOnly: keys from a local issuer (HEARTH_EVENTS_CERTS_URL) are
// accepted for demo-* projects only, both of them; a real project, or a value that is
// not an http(s) URL, is refused with a message naming the variable, and DepsFromEnv
// refuses it too.
func TestEventsCertsURLDemoOnly(t *testing.T) {
	t.Parallel()
	base := map[string]string{"HEARTH_EVENTS": "on", "HEARTH_EVENTS_AUDIENCE": eventsAudience,
		"HEARTH_EVENTS_SERVICE_ACCOUNTS": eventsSA, "HEARTH_EVENTS_CERTS_URL": "http://127.0.0.1:9/certs"}
	tests := []struct {
		name                 string
		firestore, auth, url string
		ok                   bool
		want                 string
	}{
		{"demo projects", "demo-a", "demo-b", "", true, ""},
		{"real project", "my-prod", "my-prod", "", false, `project "my-prod" does not start with "demo-"`},
		{"real auth project", "demo-a", "prod-auth", "", false, `"prod-auth"`},
		{"real firestore project", "prod-fs", "demo-a", "", false, `"prod-fs"`},
		{"capital Demo", "Demo-a", "Demo-a", "", false, `"Demo-a"`},
		{"not http", "demo-a", "demo-a", "file:///etc/jwks.json", false, "want the http(s) URL"},
		{"no host", "demo-a", "demo-a", "http:///certs", false, "want the http(s) URL"},
	}
	for _, tt := range tests {
		env := maps.Clone(base)
		env["HEARTH_FIRESTORE_PROJECT"], env["HEARTH_AUTH_PROJECT"] = tt.firestore, tt.auth
		if tt.url != "" {
			env["HEARTH_EVENTS_CERTS_URL"] = tt.url
		}
		c, err := configFromEnv(env)
		if err != nil {
			t.Fatalf("%s: configFromEnv = %v", tt.name, err)
		}
		err = c.Validate()
		if (err == nil) != tt.ok || (err != nil && (!strings.Contains(err.Error(), "HEARTH_EVENTS_CERTS_URL") || !strings.Contains(err.Error(), tt.want))) {
			t.Errorf("%s: Validate = %v, want ok %v (naming HEARTH_EVENTS_CERTS_URL and %q)", tt.name, err, tt.ok, tt.want)
		}
		if !tt.ok {
			if _, cleanup, err := DepsFromEnv(t.Context(), c); err == nil || !strings.Contains(err.Error(), "HEARTH_EVENTS_CERTS_URL") {
				cleanup()
				t.Errorf("%s: DepsFromEnv = %v, want the refusal", tt.name, err)
			}
		}
	}
	if c := DefaultConfig(); c.EventsCertsURL != "" {
		t.Errorf("default HEARTH_EVENTS_CERTS_URL = %q, want unset", c.EventsCertsURL)
	}
}
