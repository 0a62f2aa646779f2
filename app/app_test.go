package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/functions/cloudfunctions"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// triggersOf lists p's triggers as "name eventType document", in order.
func triggersOf(p *functions.Pipeline) []string {
	var out []string
	for _, t := range p.Triggers() {
		out = append(out, fmt.Sprintf("%s %s %s", t.Name, t.EventType, t.Document))
	}
	return out
}

func schedulersOf(p *functions.Pipeline) []string {
	var out []string
	for _, s := range p.Schedulers() {
		out = append(out, s.Name)
	}
	return out
}

// TestEntriesBuildTheSameBackend builds the backend the way each entry does — `hearth
// serve` and `hearth dev` (through cmd/hearth's newBackend, which calls New with the
// API config of its flags; dev turns the events door off and logs each push) and the
// Cloud Functions entry (PipelineFromEnv, registered under cloudfunctions.Names) — and
// compares their triggers and schedulers: a trigger cannot exist in one and not
// another, and push and media are wired in all three.
func TestEntriesBuildTheSameBackend(t *testing.T) {
	env := emutest.New(t)
	t.Setenv("HEARTH_FIRESTORE_PROJECT", env.ProjectID)
	t.Setenv("HEARTH_AUTH_PROJECT", env.AuthProjectID)
	t.Setenv("HEARTH_STORAGE_BUCKET", env.Bucket)
	cfg, err := LoadConfig(os.LookupEnv)
	if err != nil {
		t.Fatalf("LoadConfig() = %v", err)
	}
	quiet := Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	serve, err := New(t.Context(), cfg, quiet)
	if err != nil {
		t.Fatalf("New(serve) = %v", err)
	}
	defer serve.Close()
	devCfg := cfg
	devCfg.API.Events = false
	devCfg.Push.LogEachPush = true
	dev, err := New(t.Context(), devCfg, quiet)
	if err != nil {
		t.Fatalf("New(dev) = %v", err)
	}
	defer dev.Close()
	cf, err := PipelineFromEnv(t.Context())
	if err != nil {
		t.Fatalf("PipelineFromEnv() = %v", err)
	}

	want := triggersOf(serve.Pipeline)
	if len(want) == 0 {
		t.Fatal("hearth serve builds no triggers")
	}
	for name, p := range map[string]*functions.Pipeline{"hearth dev": dev.Pipeline, "Cloud Functions": cf} {
		if got := triggersOf(p); !slices.Equal(got, want) {
			t.Errorf("%s triggers = %q, hearth serve's = %q", name, got, want)
		}
		if got, want := schedulersOf(p), schedulersOf(serve.Pipeline); !slices.Equal(got, want) {
			t.Errorf("%s schedulers = %q, hearth serve's = %q", name, got, want)
		}
	}
	var names []string
	for _, tr := range serve.Pipeline.Triggers() {
		names = append(names, tr.Name)
	}
	if got := cloudfunctions.Names(); !slices.Equal(got, names) {
		t.Errorf("cloudfunctions.Names() = %q, hearth serve's triggers = %q", got, names)
	}
	// The manifest (hearth deploy plan) names what New built: triggers, and schedulers
	// with their intervals.
	m, err := NewManifest(cfg)
	if err != nil {
		t.Fatalf("NewManifest() = %v", err)
	}
	var mtr, msc, bsc []string
	for _, tr := range m.Triggers {
		mtr = append(mtr, fmt.Sprintf("%s %s %s", tr.Name, tr.EventType, tr.Document))
	}
	for _, s := range m.Schedulers {
		msc = append(msc, fmt.Sprintf("%s every %s", s.Name, s.Every))
	}
	for _, s := range serve.Pipeline.Schedulers() {
		bsc = append(bsc, fmt.Sprintf("%s every %s", s.Name, s.Every))
	}
	if !slices.Equal(mtr, want) {
		t.Errorf("manifest triggers = %q, hearth serve's = %q", mtr, want)
	}
	if !slices.Equal(msc, bsc) {
		t.Errorf("manifest schedulers = %q, hearth serve's = %q", msc, bsc)
	}
	if m.StorageEventsPath != StorageEventsPath {
		t.Errorf("manifest storage events path = %q, want %q (media is on)", m.StorageEventsPath, StorageEventsPath)
	}
	// Push and media run inside the triggers and as schedulers of every entry.
	wantScheds := []string{functions.SchedulerPresenceSweeper, functions.SchedulerTypingCleanup, SchedulerPushFlusher, SchedulerMediaExpiry}
	if got := schedulersOf(serve.Pipeline); !slices.Equal(got, wantScheds) {
		t.Errorf("schedulers = %q, want %q", got, wantScheds)
	}
	for name, a := range map[string]*App{"hearth serve": serve, "hearth dev": dev} {
		if a.Push == nil || a.Media == nil || a.API == nil {
			t.Errorf("%s: Push %v, Media %v, API %v: want every part", name, a.Push != nil, a.Media != nil, a.API != nil)
		}
	}
	// The API it built serves, with the clients New opened (its readiness check has a
	// 2 s budget per dependency, which a loaded machine may miss once).
	emutest.Eventually(t, time.Minute, func() error {
		w := httptest.NewRecorder()
		serve.API.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != http.StatusOK {
			return fmt.Errorf("GET /readyz = %d %s, want 200", w.Code, w.Body)
		}
		return nil
	})
	// Every scheduler is callable on the events side.
	for _, s := range wantScheds {
		w := httptest.NewRecorder()
		serve.Schedulers.ServeHTTP(w, httptest.NewRequest("POST", "/schedulers/"+s, nil))
		if w.Code != http.StatusOK {
			t.Errorf("POST /schedulers/%s = %d %s, want 200", s, w.Code, w.Body)
		}
	}
}

// TestNewRefusesBadConfig: a missing project is an error, and nothing is left open.
func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	empty := func(string) (string, bool) { return "", false }
	if _, err := LoadConfig(empty); err == nil {
		t.Error("LoadConfig(no project) = nil error")
	}
	cfg, err := ParseEnv(empty) // parsed, not validated: New must refuse it itself
	if err != nil {
		t.Fatalf("ParseEnv(empty) = %v", err)
	}
	if a, err := New(t.Context(), cfg, Options{}); err == nil || a != nil {
		t.Errorf("New(no project) = %v, %v; want nil and an error", a, err)
	}
	if _, err := LoadConfig(func(k string) (string, bool) { return "soon", k == "HEARTH_PUSH_WINDOW" }); err == nil {
		t.Error("LoadConfig(HEARTH_PUSH_WINDOW=soon) = nil error")
	}
}
