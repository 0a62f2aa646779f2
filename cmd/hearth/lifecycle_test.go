package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/oidc"
	"github.com/hearth-chat/hearth/internal/oidc/oidctest"
)

// runMainEnv makes the test binary run main instead of the tests: the lifecycle test
// starts `hearth serve` as a process of its own from it, so that it receives a real
// SIGTERM.
const runMainEnv = "HEARTH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// cloudRunStopBudget is how long `hearth serve` may take to stop after SIGTERM: Cloud
// Run kills the instance 10 s after it, and the stop must leave margin.
const cloudRunStopBudget = 8 * time.Second

// TestServeStopsWithinCloudRunBudget: `hearth serve`, with a request in flight that
// would run for another minute (its Auth and Firestore backends hang), gets SIGTERM as
// Cloud Run sends it. The process exits with 0 within the budget, and the request in
// flight gets a retryable answer (503 with Retry-After), not a dropped connection.
func TestServeStopsWithinCloudRunBudget(t *testing.T) {
	hang := hangingListener(t) // Firestore, Auth and FCM: connections accepted, never answered
	addr := freeAddr(t)
	env := []string{runMainEnv + "=1", "GOOGLE_CLOUD_PROJECT=demo-lifecycle", "HEARTH_ADDR=" + addr,
		"FIRESTORE_EMULATOR_HOST=" + hang, "FIREBASE_AUTH_EMULATOR_HOST=" + hang, "HEARTH_FCM_EMULATOR_HOST=" + hang,
		"HEARTH_AUTH_TIMEOUT=2m", "HEARTH_REQUEST_TIMEOUT=2m", "HEARTH_LOG_LEVEL=debug"}
	// A -race build sleeps a second before it exits (GORACE atexit_sleep_ms); a
	// production build does not.
	env = append(env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	for _, kv := range os.Environ() {
		// The test's own settings win: under `hearth emulators exec` the environment names
		// the suite's project, whose tokens this test does not use.
		if name, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(name, "HEARTH_") && !strings.HasSuffix(name, "_EMULATOR_HOST") &&
			name != "GORACE" && name != "GOOGLE_CLOUD_PROJECT" {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = env
	var logs emutest.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("hearth serve log:\n%s", logs.String())
		}
	}()
	base := "http://" + addr

	emutest.Eventually(t, time.Minute, func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("hearth serve exited before it served: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz = %s", resp.Status)
		}
		return nil
	})

	// The slow request: its token check asks the (hanging) Auth backend.
	type answer struct {
		status     int
		retryAfter string
		body       string
		err        error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+emutest.FakeIDToken("demo-lifecycle", "alice", nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
	}()
	emutest.Eventually(t, time.Minute, func() error {
		if n, err := inFlight(base); err != nil || n < 2 { // the slow request and this scrape
			return fmt.Errorf("requests in flight = %v, %v; want the slow one and the scrape", n, err)
		}
		return nil
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sigterm := time.Now()
	budget := time.NewTimer(cloudRunStopBudget)
	defer budget.Stop()
	select {
	case err := <-exited:
		t.Logf("hearth serve exited %s after SIGTERM", time.Since(sigterm).Round(time.Millisecond))
		if err != nil {
			t.Errorf("hearth serve after SIGTERM: %v, want exit code 0", err)
		}
	case <-budget.C:
		t.Fatalf("hearth serve still running %s after SIGTERM: Cloud Run would kill it with requests in flight", cloudRunStopBudget)
	}
	select {
	case a := <-answered:
		if a.err != nil || a.status != http.StatusServiceUnavailable || a.retryAfter == "" {
			t.Errorf("the request in flight at SIGTERM got %d (Retry-After %q) %s, err %v; want 503 with Retry-After", a.status, a.retryAfter, a.body, a.err)
		}
	default:
		t.Errorf("the request in flight at SIGTERM got no answer before the process exited")
	}
}

// inFlight reads hearth_http_requests_in_flight from /metrics.
func inFlight(base string) (float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "hearth_http_requests_in_flight "); ok {
			var n float64
			if err := json.Unmarshal([]byte(v), &n); err != nil {
				return 0, fmt.Errorf("in flight %q: %w", v, err)
			}
			return n, nil
		}
	}
	return 0, errors.New("no hearth_http_requests_in_flight in /metrics")
}

// hangingListener accepts connections and never answers on them, as a backend that is
// stuck does; it stops with the test.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestEventInFlightAtShutdownAnswers500: an Eventarc delivery whose trigger is still
// running when the server stops (its Firestore hangs) is answered 500, so that Eventarc
// delivers it again, and the server stops within the budget. The trigger is the real
// message trigger behind the real OIDC check (keys from a local issuer).
func TestEventInFlightAtShutdownAnswers500(t *testing.T) {
	hang := hangingListener(t)
	t.Setenv("FIRESTORE_EMULATOR_HOST", hang)
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", hang)
	const project, audience, caller = "demo-hearth", "https://events.example", "eventarc@demo-hearth.iam.gserviceaccount.com"
	ctx := t.Context()
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	authClient, err := admin.NewAuthClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := functions.New(functions.Config{}, functions.Deps{Firestore: fs})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := oidctest.New()
	if err != nil {
		t.Fatal(err)
	}
	callers, err := oidc.New(ctx, oidc.Config{Audiences: []string{audience}, ServiceAccounts: []string{caller}}, oidc.Deps{HTTPClient: iss.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := admin.DefaultConfig()
	cfg.FirestoreProject, cfg.AuthProject = project, project
	cfg.Events, cfg.EventsAudiences, cfg.EventsServiceAccounts = true, []string{audience}, []string{caller}
	reg := prometheus.NewRegistry()
	srv, err := admin.New(cfg, admin.Deps{Firestore: fs, Auth: authClient, Callers: callers,
		Events: pipeline.CloudEventHandler(), Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()

	answered := make(chan int, 1)
	go func() {
		body := forgedEvent("ev-1", "google.cloud.firestore.document.v1.written", "m1")
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/events/"+functions.TriggerMessageWritten, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", "Bearer "+iss.Token(oidctest.Claims(audience, caller)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("the event in flight at shutdown got no answer: %v", err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	emutest.Eventually(t, time.Minute, func() error {
		mfs, err := reg.Gather()
		if err != nil {
			return err
		}
		for _, mf := range mfs {
			if mf.GetName() == "hearth_http_requests_in_flight" && mf.GetMetric()[0].GetGauge().GetValue() >= 1 {
				return nil
			}
		}
		return errors.New("the event is not in flight yet")
	})

	stop() // SIGTERM
	sigterm := time.Now()
	budget := time.NewTimer(cloudRunStopBudget)
	defer budget.Stop()
	select {
	case err := <-served:
		t.Logf("Serve() returned %s after shutdown began", time.Since(sigterm).Round(time.Millisecond))
		if err != nil {
			t.Errorf("Serve() after shutdown = %v, want nil", err)
		}
	case <-budget.C:
		t.Fatalf("Serve() still running %s after shutdown began, with the event in flight", cloudRunStopBudget)
	}
	if code := <-answered; code != http.StatusInternalServerError {
		t.Errorf("the event in flight at shutdown = %d, want 500 (Eventarc delivers it again)", code)
	}
}
