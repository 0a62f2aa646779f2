package prodshape_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/oidc/oidctest"
	"github.com/hearth-chat/hearth/rules"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const (
	// eventarcSA is the service account the Eventarc triggers and Cloud Scheduler jobs
	// act as ($SA of the deploy plan): the one the events service allows.
	eventarcSA = "hearth@demo-prodshape.iam.gserviceaccount.com"
	// intruderSA is a real-looking service account the events service does not allow.
	intruderSA = "intruder@demo-prodshape.iam.gserviceaccount.com"
	// readyTimeout bounds a process's start (a cold binary under a loaded machine).
	readyTimeout = 90 * time.Second
	// flowTimeout bounds the wait for what the triggers derive.
	flowTimeout = 60 * time.Second
)

// TestSplitDeployment is the production shape of docs/deploy.md, against the emulator
// suite: the built `hearth` binary runs as two processes, `hearth serve --role=api` and
// `hearth serve --role=events` with its OIDC check on (keys from a local issuer,
// HEARTH_EVENTS_CERTS_URL, which only a demo project may use). The Firestore emulator's
// trigger deliveries reach the events process only through an Eventarc stand-in
// (emulator.EventarcForwarder: binary-mode CloudEvents with an OIDC ID token of the
// allowed service account for the events URL). A signed-in Auth emulator user creates a
// room through the api process and writes a message through the security rules; the
// recipient's inbox entry and push (the fake FCM) follow. Each process serves its own
// routes only, and the events process refuses deliveries without a token, for another
// audience, of another account or signed by another key.
func TestSplitDeployment(t *testing.T) {
	env := emutest.New(t)
	ctx := t.Context()
	src, _, err := rules.Render()
	if err != nil {
		t.Fatal(err)
	}
	env.LoadRules(string(src))

	// The local issuer: Google's shape (issuer accounts.google.com, RS256), its JWKS
	// over HTTP for the events process to fetch.
	iss, err := oidctest.New()
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(iss.Handler())
	t.Cleanup(jwks.Close)
	token := func(audience, email string) string { return iss.Token(oidctest.Claims(audience, email)) }

	bin := buildHearth(t)
	addrs := freeAddrs(t, 2)
	apiAddr, eventsAddr := addrs[0], addrs[1]
	apiURL, eventsURL := "http://"+apiAddr, "http://"+eventsAddr
	common := []string{
		"GOOGLE_CLOUD_PROJECT=" + env.ProjectID,
		"HEARTH_AUTH_PROJECT=" + env.AuthProjectID,
		"FIRESTORE_EMULATOR_HOST=" + env.FirestoreHost,
		"FIREBASE_AUTH_EMULATOR_HOST=" + env.AuthHost,
		"HEARTH_FCM_EMULATOR_HOST=" + env.FCMHost,
		"HEARTH_LOG_FORMAT=text",
	}
	// As the plan's step 4 deploys them: the api service without the events routes, the
	// events service with HEARTH_EVENTS on, its URL as the audience and $SA allowed.
	events := startServe(t, "events", bin, append(common,
		"HEARTH_ROLE=events", "HEARTH_ADDR="+eventsAddr,
		"HEARTH_EVENTS=on", "HEARTH_EVENTS_AUDIENCE="+eventsURL, "HEARTH_EVENTS_SERVICE_ACCOUNTS="+eventarcSA,
		"HEARTH_EVENTS_CERTS_URL="+jwks.URL+"/oauth2/v3/certs"))
	api := startServe(t, "api", bin, append(common, "HEARTH_ROLE=api", "HEARTH_ADDR="+apiAddr))
	procs := []*process{api, events}
	for _, p := range procs {
		p.waitReady(t)
	}

	// Eventarc: every trigger the composition root registers, delivered to the events
	// process with the allowed account's token for the events URL.
	fwd, err := emulator.NewEventarcForwarder(emulator.EventarcConfig{
		Target: eventsURL,
		Token: func(_ context.Context, audience string) (string, error) {
			return token(audience, eventarcSA), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	deliveries := &deliveryLog{}
	env.Route(deliveries.wrap(fwd))
	for _, tr := range functions.TriggerSpecs() {
		env.RegisterTrigger(firestoreevent.Trigger{ID: tr.Name, EventType: tr.EventType, Document: tr.Document,
			MatchType: firestoreevent.MatchPathPattern})
	}

	// Each process serves its own routes only.
	alice, bob := env.NewUser("alice"), env.NewUser("bob")
	expect(t, call(t, http.MethodGet, apiURL+"/v1/me", alice.IDToken, nil), http.StatusOK, "api GET /v1/me")
	expect(t, call(t, http.MethodGet, eventsURL+"/v1/me", alice.IDToken, nil), http.StatusNotFound, "events GET /v1/me")
	expect(t, call(t, http.MethodGet, eventsURL+"/admin/v1/users", alice.IDToken, nil), http.StatusNotFound, "events GET /admin/v1/users")
	expect(t, call(t, http.MethodPost, apiURL+"/events/onMessageWritten", token(apiURL, eventarcSA), nil), http.StatusNotFound,
		"api POST /events/onMessageWritten with a valid token")
	expect(t, call(t, http.MethodPost, apiURL+"/schedulers/push-flusher", token(apiURL, eventarcSA), nil), http.StatusNotFound,
		"api POST /schedulers/push-flusher with a valid token")
	for _, p := range procs {
		expect(t, call(t, http.MethodGet, p.url+"/metrics", "", nil), http.StatusOK, p.name+" GET /metrics")
	}

	// The flow: bob's phone registers, alice creates a room with bob (api), then writes a
	// message from her client, through the rules.
	device := "prodshape-" + env.ProjectID + "-bob"
	expect(t, call(t, http.MethodPut, apiURL+"/v1/devices/phone1", bob.IDToken,
		map[string]any{"token": device, "platform": "android", "locale": "en"}), http.StatusOK, "api PUT /v1/devices/phone1")
	resp := call(t, http.MethodPost, apiURL+"/v1/rooms", alice.IDToken, map[string]any{"title": "Split", "memberIds": []string{bob.UID}})
	expect(t, resp, http.StatusCreated, "api POST /v1/rooms")
	var room struct{ ID string }
	if err := json.Unmarshal(resp.body, &room); err != nil || room.ID == "" {
		t.Fatalf("POST /v1/rooms body %s: no room id (%v)", resp.body, err)
	}
	db := userFirestore(t, env, alice.IDToken)
	const text = "hello from the split deployment"
	wrote := time.Now()
	if _, err := db.Collection("rooms/"+room.ID+"/messages").Doc("m1").Create(ctx, map[string]any{
		"senderId": alice.UID, "type": "text", "text": text, "createdAt": firestore.ServerTimestamp,
	}); err != nil {
		t.Fatalf("alice writes a message through the rules: %v", err)
	}

	inbox := env.Firestore().Doc(model.InboxEntryPath(bob.UID, room.ID))
	emutest.Eventually(t, flowTimeout, func() error {
		alive(t, procs...)
		snap, err := inbox.Get(ctx)
		if err != nil {
			return fmt.Errorf("bob's inbox entry: %v (deliveries so far: %s)", err, deliveries)
		}
		var e model.InboxEntry
		if err := snap.DataTo(&e); err != nil {
			t.Fatalf("bob's inbox entry: %v", err)
		}
		if e.LastMessage == nil || e.LastMessage.ID != "m1" || e.LastMessage.Preview != text || e.UnreadCount != 1 {
			return fmt.Errorf("bob's inbox entry = %+v, last message %+v; want m1 %q, 1 unread (deliveries so far: %s)",
				e, e.LastMessage, text, deliveries)
		}
		return nil
	})
	inboxAfter := time.Since(wrote)
	emutest.Eventually(t, flowTimeout, func() error {
		alive(t, procs...)
		var bodies []string
		for _, s := range env.Sent() {
			if s.Token == device {
				bodies = append(bodies, s.Body)
			}
		}
		if len(bodies) != 1 || !strings.Contains(bodies[0], text) {
			return fmt.Errorf("pushes to bob's phone = %q; want one carrying %q (deliveries so far: %s)", bodies, text, deliveries)
		}
		return nil
	})
	t.Logf("message written → bob's inbox entry seen after %v, his push after %v (polling every 20 ms); deliveries: %s",
		inboxAfter.Round(time.Millisecond), time.Since(wrote).Round(time.Millisecond), deliveries)
	if refused := deliveries.refused(); len(refused) > 0 {
		t.Errorf("the events process refused forwarded deliveries: %v", refused)
	}
	if deliveries.count("onMessageWritten") == 0 {
		t.Errorf("no onMessageWritten delivery went through the forwarder: %s", deliveries)
	}

	// Deliveries the events process must refuse: the event of a message as Eventarc
	// would carry it, with no token, a token for another audience (the api service's,
	// or no scheme), of another service account, or signed by a key the issuer does not
	// publish. None of them reaches a handler.
	forged := &firestoreevent.Event{Meta: firestoreevent.Meta{ID: "forged-1", Type: firestoreevent.TypeWritten},
		Value: &firestorepb.Document{
			Name: "projects/" + env.ProjectID + "/databases/(default)/documents/rooms/" + room.ID + "/messages/forged",
			Fields: map[string]*firestorepb.Value{
				"senderId": {ValueType: &firestorepb.Value_StringValue{StringValue: alice.UID}},
				"type":     {ValueType: &firestorepb.Value_StringValue{StringValue: "text"}},
				"text":     {ValueType: &firestorepb.Value_StringValue{StringValue: "FORGED"}},
			}}}
	other, err := oidctest.New()
	if err != nil {
		t.Fatal(err)
	}
	other.KID = iss.KID // same key id, another key
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"the api service's audience", "Bearer " + token(apiURL, eventarcSA), http.StatusUnauthorized},
		{"audience without the scheme", "Bearer " + token(eventsAddr, eventarcSA), http.StatusUnauthorized},
		{"another service account", "Bearer " + token(eventsURL, intruderSA), http.StatusForbidden},
		{"signed by another key", "Bearer " + other.Token(oidctest.Claims(eventsURL, eventarcSA)), http.StatusUnauthorized},
		{"not a JWT", "Bearer owner", http.StatusUnauthorized},
	} {
		for _, path := range []string{"onMessageWritten", "schedulers"} {
			var req *http.Request
			if path == "schedulers" {
				req, err = http.NewRequestWithContext(ctx, http.MethodPost, eventsURL+"/schedulers/push-flusher", nil)
			} else {
				req, err = emulator.EventarcRequest(ctx, eventsURL, path, forged)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			r := do(t, req)
			expect(t, r, tt.want, "events "+req.URL.Path+" with "+tt.name)
		}
	}
	// The same refusals through the Eventarc stand-in itself, as a misconfigured trigger
	// would deliver: its token for another audience, of another account, or empty.
	for _, tt := range []struct {
		name  string
		token func(audience string) string
		want  int
	}{
		{"the api service's audience", func(string) string { return token(apiURL, eventarcSA) }, http.StatusUnauthorized},
		{"another service account", func(aud string) string { return token(aud, intruderSA) }, http.StatusForbidden},
		{"an empty token", func(string) string { return "" }, http.StatusUnauthorized},
	} {
		bad, err := emulator.NewEventarcForwarder(emulator.EventarcConfig{Target: eventsURL, Attempts: 1,
			Token: func(_ context.Context, aud string) (string, error) { return tt.token(aud), nil }})
		if err != nil {
			t.Fatal(err)
		}
		if code, err := bad.Deliver(ctx, "onMessageWritten", forged); code != tt.want || err == nil {
			t.Errorf("a delivery forwarded with %s = %d, %v; want %d", tt.name, code, err, tt.want)
		}
	}
	// Cloud Scheduler's call, with the allowed account's token, is served.
	expect(t, call(t, http.MethodPost, eventsURL+"/schedulers/push-flusher", token(eventsURL, eventarcSA), nil), http.StatusOK,
		"events POST /schedulers/push-flusher as Cloud Scheduler")
	for _, s := range env.Sent() {
		if strings.Contains(s.Body, "FORGED") {
			t.Errorf("the forged message was pushed: %+v", s)
		}
	}
	alive(t, procs...)
}

// buildHearth builds cmd/hearth into a temporary directory: the binary that runs in
// production, not this test binary.
func buildHearth(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go") // go test puts its own toolchain first in PATH
	if err != nil {
		t.Fatalf("the go command is needed to build hearth: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "hearth")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/hearth-chat/hearth/cmd/hearth").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/hearth: %v\n%s", err, out)
	}
	return bin
}

// freeAddrs returns n distinct loopback addresses that were free a moment ago (all held
// at once, so none is handed out twice). A process that cannot listen on its address
// exits, and the test says so with its output.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// process is one `hearth serve` of the test.
type process struct {
	name, url string
	cmd       *exec.Cmd
	logs      *emutest.Buffer
	exited    chan struct{}
	err       error // cmd.Wait's, after exited is closed
}

// startServe starts `bin serve` with only env (none of the test's own HEARTH_* or
// emulator variables leak in) and stops it when the test ends, with SIGTERM as Cloud
// Run sends it; its output is logged when the test failed.
func startServe(t *testing.T, name, bin string, env []string) *process {
	t.Helper()
	var base []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "HEARTH_") && !strings.HasSuffix(k, "_EMULATOR_HOST") && k != "GOOGLE_CLOUD_PROJECT" &&
			k != "GOOGLE_APPLICATION_CREDENTIALS" && k != "PORT" {
			base = append(base, kv)
		}
	}
	p := &process{name: name, logs: &emutest.Buffer{}, exited: make(chan struct{})}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HEARTH_ADDR="); ok {
			p.url = "http://" + v
		}
	}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(base, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start hearth serve (%s): %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("hearth serve (%s) still running 15 s after SIGTERM: killed", name)
		}
		if t.Failed() {
			t.Logf("hearth serve (%s) output:\n%s", name, p.logs)
		}
	})
	return p
}

// waitReady waits until the process answers /readyz (its Firestore and Auth answered),
// failing at once, with its output, if it exits first.
func (p *process) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	emutest.Eventually(t, readyTimeout, func() error {
		alive(t, p)
		resp, err := client.Get(p.url + "/readyz")
		if err != nil {
			return fmt.Errorf("hearth serve (%s) not ready: %v\noutput so far:\n%s", p.name, err, p.logs)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("hearth serve (%s) /readyz = %s\noutput so far:\n%s", p.name, resp.Status, p.logs)
		}
		return nil
	})
}

// alive fails the test at once, with the process's output, if one of procs exited.
func alive(t *testing.T, procs ...*process) {
	t.Helper()
	for _, p := range procs {
		select {
		case <-p.exited:
			t.Fatalf("hearth serve (%s) exited: %v\noutput:\n%s", p.name, p.err, p.logs)
		default:
		}
	}
}

// response is an answer read whole.
type response struct {
	status int
	body   []byte
}

func call(t *testing.T, method, url, bearer string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return response{status: resp.StatusCode, body: b}
}

func expect(t *testing.T, r response, want int, what string) {
	t.Helper()
	if r.status != want {
		t.Errorf("%s = %d %s, want %d", what, r.status, bytes.TrimSpace(r.body), want)
	}
}

// userFirestore is a Firestore client of the test's project that sends the user's Auth
// emulator ID token on every call, as the Firebase SDK of a signed-in app does: the
// emulator enforces the security rules on it.
func userFirestore(t *testing.T, env *emutest.Env, idToken string) *firestore.Client {
	t.Helper()
	conn, err := grpc.NewClient(env.FirestoreHost, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(idToken)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := firestore.NewClient(t.Context(), env.ProjectID, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// deliveryLog records what the events process answered to each forwarded delivery.
type deliveryLog struct {
	mu  sync.Mutex
	got []delivery
}

type delivery struct {
	trigger string
	status  int
}

func (l *deliveryLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		_, trigger, _ := strings.Cut(r.URL.Path, "/triggers/")
		l.mu.Lock()
		l.got = append(l.got, delivery{trigger, rec.status})
		l.mu.Unlock()
	})
}

func (l *deliveryLog) refused() []delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []delivery
	for _, d := range l.got {
		if d.status/100 != 2 {
			out = append(out, d)
		}
	}
	return out
}

func (l *deliveryLog) count(trigger string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.got {
		if d.trigger == trigger {
			n++
		}
	}
	return n
}

func (l *deliveryLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.got)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
