package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/deployplan"
	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestParseRoles(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want Roles
		str  string
	}{
		{"api", RoleAPI, "api"},
		{"events", RoleEvents, "events"},
		{"worker", RoleWorker, "worker"},
		{"all", RoleAll, "all"},
		{"API, Worker", RoleAPI | RoleWorker, "api,worker"},
		{"worker,api,api", RoleAPI | RoleWorker, "api,worker"},
		{"api,events,worker", RoleAll, "all"},
		{"api,all", RoleAll, "all"},
	}
	for _, tt := range good {
		got, err := ParseRoles(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseRoles(%q) = %v (%q), %v; want %v (%q)", tt.in, got, got, err, tt.want, tt.str)
		}
	}
	for _, in := range []string{"", " ", "api,", ",", "web", "api,wrker", "all,none", "api;events", "events\x00", strings.Repeat("a", 1<<16)} {
		got, err := ParseRoles(in)
		if err == nil {
			t.Errorf("ParseRoles(%.20q) = %v, nil error; want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), "api, events, worker, or all") || len(err.Error()) > 200 {
			t.Errorf("ParseRoles(%.20q) = %.300v; want a short error naming the roles", in, err)
		}
	}
}

// TestLoadConfigRole: HEARTH_ROLE defaults to all; a bad name is an error naming the
// variable; a process that names events without HEARTH_EVENTS on is refused, naming
// HEARTH_EVENTS; all without events is a VM that serves no events (accepted).
func TestLoadConfigRole(t *testing.T) {
	t.Parallel()
	load := func(vars map[string]string) (Config, error) {
		vars["GOOGLE_CLOUD_PROJECT"] = "p"
		return LoadConfig(envconfig.Map(vars))
	}
	c, err := load(map[string]string{})
	if err != nil || c.Role != RoleAll {
		t.Errorf("LoadConfig(no HEARTH_ROLE) = %v, %v; want all", c.Role, err)
	}
	c, err = load(map[string]string{"HEARTH_ROLE": "api,worker"})
	if err != nil || c.Role != RoleAPI|RoleWorker {
		t.Errorf("LoadConfig(HEARTH_ROLE=api,worker) = %v, %v", c.Role, err)
	}
	if _, err := load(map[string]string{"HEARTH_ROLE": "api,bogus"}); err == nil ||
		!strings.Contains(err.Error(), "HEARTH_ROLE") || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("LoadConfig(HEARTH_ROLE=api,bogus) = %v; want an error naming HEARTH_ROLE and bogus", err)
	}
	for _, role := range []string{"events", "api,events", "events,worker"} {
		if _, err := load(map[string]string{"HEARTH_ROLE": role}); err == nil || !strings.Contains(err.Error(), "HEARTH_EVENTS") {
			t.Errorf("LoadConfig(HEARTH_ROLE=%s, events off) = %v; want an error naming HEARTH_EVENTS", role, err)
		}
	}
	if _, err := load(map[string]string{"HEARTH_ROLE": "events", "HEARTH_EVENTS": "on",
		"HEARTH_EVENTS_AUDIENCE": "https://events.example", "HEARTH_EVENTS_SERVICE_ACCOUNTS": "sa@p.iam.gserviceaccount.com"}); err != nil {
		t.Errorf("LoadConfig(HEARTH_ROLE=events, events on) = %v", err)
	}
	// New refuses what LoadConfig refuses, for callers that build a Config themselves.
	c, _ = ParseEnv(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "HEARTH_ROLE": "events"}))
	if a, err := New(t.Context(), c, Options{}); err == nil || a != nil || !strings.Contains(err.Error(), "HEARTH_EVENTS") {
		t.Errorf("New(role events, events off) = %v, %v; want an error naming HEARTH_EVENTS", a, err)
	}
	c.Role = 0
	if _, err := New(t.Context(), c, Options{}); err == nil {
		t.Error("New(no role) = nil error")
	}
}

// roleEnv returns the variables of a suite-backed App of role, events on.
func roleEnv(env *emutest.Env, role string) map[string]string {
	return map[string]string{
		"HEARTH_FIRESTORE_PROJECT":       env.ProjectID,
		"HEARTH_AUTH_PROJECT":            env.AuthProjectID,
		"HEARTH_STORAGE_BUCKET":          env.Bucket,
		"HEARTH_EVENTS":                  "on",
		"HEARTH_EVENTS_AUDIENCE":         "https://events.example",
		"HEARTH_EVENTS_SERVICE_ACCOUNTS": "hearth@" + env.ProjectID + ".iam.gserviceaccount.com",
		"HEARTH_ROLE":                    role,
	}
}

func newRoleApp(t *testing.T, env *emutest.Env, vars map[string]string, clk clock.Clock) *App {
	t.Helper()
	cfg, err := LoadConfig(envconfig.Overlay(os.LookupEnv, vars))
	if err != nil {
		t.Fatalf("LoadConfig(%v) = %v", vars, err)
	}
	a, err := New(t.Context(), cfg, Options{Clock: clk,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatalf("New(role %s) = %v", vars["HEARTH_ROLE"], err)
	}
	t.Cleanup(a.Close)
	return a
}

// TestRoleRoutes: each role's server answers its routes and 404 for the others' (as
// for a route that does not exist). Health and metrics answer on every role; the
// events routes, without a token, answer 401 (mounted, behind the OIDC check).
func TestRoleRoutes(t *testing.T) {
	env := emutest.New(t)
	type probe struct{ method, path string }
	var (
		healthz  = probe{"GET", "/healthz"}
		metrics  = probe{"GET", "/metrics"}
		me       = probe{"GET", "/v1/me"}
		room     = probe{"POST", "/v1/rooms"}
		users    = probe{"GET", "/admin/v1/users"}
		openapi  = probe{"GET", "/openapi.json"}
		event    = probe{"POST", "/events/" + functions.TriggerSpecs()[0].Name}
		storage  = probe{"POST", StorageEventsPath}
		schedule = probe{"POST", "/schedulers/" + functions.SchedulerPresenceSweeper}
	)
	probes := []probe{healthz, metrics, me, room, users, openapi, event, storage, schedule}
	api := map[probe]int{me: 401, room: 401, users: 401, openapi: 200}
	events := map[probe]int{event: 401, storage: 401, schedule: 401}
	tests := []struct {
		role string
		want []map[probe]int // the groups that answer; every other probe is 404
	}{
		{"api", []map[probe]int{api}},
		{"events", []map[probe]int{events}},
		{"worker", nil},
		{"api,worker", []map[probe]int{api}},
		{"api,events", []map[probe]int{api, events}},
		{"all", []map[probe]int{api, events}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			a := newRoleApp(t, env, roleEnv(env, tt.role), nil)
			h := a.API.Handler()
			for _, p := range probes {
				want := http.StatusNotFound
				switch p {
				case healthz, metrics:
					want = http.StatusOK
				}
				for _, g := range tt.want {
					if code, ok := g[p]; ok {
						want = code
					}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(p.method, p.path, strings.NewReader("{}")))
				if w.Code != want {
					t.Errorf("role %s: %s %s = %d %.200s, want %d", tt.role, p.method, p.path, w.Code, w.Body, want)
				}
			}
		})
	}
	// all without HEARTH_EVENTS (one VM that receives no events): the apps' routes,
	// and the events routes answer 404.
	t.Run("all, events off", func(t *testing.T) {
		vars := roleEnv(env, "all")
		vars["HEARTH_EVENTS"] = "off"
		h := newRoleApp(t, env, vars, nil).API.Handler()
		for p, want := range map[probe]int{healthz: 200, me: 401, event: 404, schedule: 404} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(p.method, p.path, nil))
			if w.Code != want {
				t.Errorf("role all, events off: %s %s = %d, want %d", p.method, p.path, w.Code, want)
			}
		}
	})
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRoleBackground: App.Run runs the background loops with the worker role only. With
// a fake clock an hour past every interval: under worker the presence sweeper runs
// (it takes its lease, leases/presence-sweeper); under api or events nothing takes it,
// and after Run the pipeline's loops were never started (Pipeline.Run can still start).
func TestRoleBackground(t *testing.T) {
	env := emutest.New(t)
	for _, tt := range []struct {
		role   string
		worker bool
	}{{"worker", true}, {"api,events", false}, {"api", false}, {"events", false}, {"all", true}} {
		t.Run(tt.role, func(t *testing.T) {
			vars := roleEnv(env, tt.role)
			// Each its own project: a lease left by another case cannot be seen.
			vars["HEARTH_FIRESTORE_PROJECT"] = emutest.NewProjectID()
			addr := freeAddr(t)
			vars["HEARTH_ADDR"] = addr
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			a := newRoleApp(t, env, vars, clk)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			stop := func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Run(role %s) = %v", tt.role, err)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("Run(role %s) did not return 30 s after its context ended", tt.role)
				}
			}
			defer func() {
				if ctx.Err() == nil {
					stop()
				}
			}()
			// The server of every role is up.
			emutest.Eventually(t, time.Minute, func() error {
				select {
				case err := <-done:
					t.Fatalf("Run(role %s) returned early: %v", tt.role, err)
				default:
				}
				resp, err := http.Get("http://" + addr + "/healthz")
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("GET /healthz = %d", resp.StatusCode)
				}
				return nil
			})
			project, lease := vars["HEARTH_FIRESTORE_PROJECT"], functions.SchedulerPresenceSweeper
			if tt.worker {
				// The four scheduler loops wait on the clock; then each is due.
				wctx, wcancel := context.WithTimeout(t.Context(), time.Minute)
				defer wcancel()
				if err := clk.WaitForWaiters(wctx, len(a.Pipeline.Schedulers())); err != nil {
					t.Fatalf("role %s: the scheduler loops never waited on the clock: %v (waiters %d)", tt.role, err, clk.Waiters())
				}
				clk.Advance(time.Hour)
				emutest.Eventually(t, time.Minute, func() error {
					if _, err := leaseDoc(t.Context(), project, lease); err != nil {
						return fmt.Errorf("the due %s did not run: leases/%s: %w", lease, lease, err)
					}
					return nil
				})
			} else {
				clk.Advance(time.Hour)
			}
			stop()
			// Run has returned: every loop it started has ended. Pipeline.Run refuses a
			// second start, so it tells whether Run started the loops.
			over, cancelOver := context.WithCancel(t.Context())
			cancelOver()
			err := a.Pipeline.Run(over)
			if started := err != nil; started != tt.worker {
				t.Errorf("role %s: background loops started = %v (Pipeline.Run after Run = %v), want %v", tt.role, started, err, tt.worker)
			}
			if !tt.worker {
				if _, err := leaseDoc(t.Context(), project, lease); !firestoreerr.IsNotFound(err) {
					t.Errorf("role %s: leases/%s read = %v, want NotFound (no scheduler ran)", tt.role, lease, err)
				}
			}
		})
	}
}

// leaseDoc reads leases/{name} of project.
func leaseDoc(ctx context.Context, project, name string) (*firestore.DocumentSnapshot, error) {
	db, err := firestore.NewClient(ctx, project)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Collection(model.LeasesCollection).Doc(name).Get(ctx)
}

// TestDeployPlanRoles: each Cloud Run service of the deploy plan passes `hearth serve`
// arguments that parse to its own role (the flags of RegisterFlags), and an events
// service has the events on that its role needs.
func TestDeployPlanRoles(t *testing.T) {
	t.Parallel()
	for _, s := range deployplan.Services() {
		cfg, err := ParseEnv(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}))
		if err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.RegisterFlags(fs)
		if err := fs.Parse(s.Args); err != nil || fs.NArg() > 0 {
			t.Errorf("service %s: hearth serve %q = %v, left %q", s.Role, s.Args, err, fs.Args())
			continue
		}
		want, err := ParseRoles(s.Role)
		if err != nil || cfg.Role != want {
			t.Errorf("service %s: hearth serve %q runs role %v, want %v (%v)", s.Role, s.Args, cfg.Role, want, err)
		}
		if cfg.Role.Has(RoleEvents) != s.Events {
			t.Errorf("service %s: events role %v, but the plan turns HEARTH_EVENTS on: %v", s.Role, cfg.Role.Has(RoleEvents), s.Events)
		}
	}
}
