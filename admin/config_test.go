package admin

import (
	"flag"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/media"
)

// configFromEnv reads a Config from env as app.LoadConfig does for the API, without the
// GOOGLE_CLOUD_PROJECT and PORT defaults (app's; these tests cannot import app, which
// imports this package).
func configFromEnv(env map[string]string) (Config, error) {
	var c Config
	err := envconfig.Parse(envconfig.Map(env), &c)
	return c, err
}

// mediaConfigFromEnv reads the media settings of the process environment (the suite's)
// as app.LoadConfig does, GOOGLE_CLOUD_PROJECT as the default Pub/Sub project included.
func mediaConfigFromEnv(t testing.TB) media.Config {
	t.Helper()
	var c media.Config
	if err := envconfig.Parse(os.LookupEnv, &c); err != nil {
		t.Fatal(err)
	}
	if c.PubSubProject == "" {
		c.PubSubProject = os.Getenv("GOOGLE_CLOUD_PROJECT")
	}
	return c.Resolve()
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	c, err := configFromEnv(map[string]string{"HEARTH_FIRESTORE_PROJECT": "demo-x", "HEARTH_AUTH_PROJECT": "demo-x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != DefaultAddr || c.FirestoreProject != "demo-x" || c.AuthProject != "demo-x" || c.AppCheck != AppCheckOff ||
		c.AuthTimeout != DefaultAuthTimeout || c.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("defaults = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v", err)
	}
	c, err = configFromEnv(map[string]string{
		"HEARTH_FIRESTORE_PROJECT": "demo-fs", "HEARTH_AUTH_PROJECT": "demo-auth", "HEARTH_ADDR": ":9000",
		"HEARTH_APPCHECK": "Enforce", "HEARTH_AUTH_TIMEOUT": "500ms", "HEARTH_RATE_LIMIT": "2.5",
		"HEARTH_RATE_BURST": "7", "HEARTH_MAX_BODY_BYTES": "2048", "HEARTH_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,",
		"HEARTH_STORAGE_BUCKET": "b", "HEARTH_REQUEST_TIMEOUT": "5s", "HEARTH_SHUTDOWN_TIMEOUT": "3s",
		"HEARTH_TOKEN_CACHE_SIZE": "0", "HEARTH_EVENTS": "off", "HEARTH_READY_CACHE": "0s",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: ":9000", FirestoreProject: "demo-fs", AuthProject: "demo-auth", AppCheck: AppCheckEnforce,
		AuthTimeout: 500 * time.Millisecond, RequestTimeout: 5 * time.Second, ShutdownTimeout: 3 * time.Second,
		MaxBodyBytes: 2048, RateLimit: 2.5, RateBurst: 7, TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1"}, StorageBucket: "b",
		ReportHideThreshold: DefaultReportHideThreshold, ReportsPerHour: DefaultReportsPerHour}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parse = %+v, want %+v", c, want)
	}
}

// TestDefaults: the defaults of the env tags are the Default* constants of before.
func TestDefaults(t *testing.T) {
	t.Parallel()
	want := Config{Addr: DefaultAddr, AppCheck: AppCheckOff, AuthTimeout: DefaultAuthTimeout, RequestTimeout: DefaultRequestTimeout,
		ShutdownTimeout: DefaultShutdownTimeout, ReadyCacheTTL: DefaultReadyCacheTTL, MaxBodyBytes: DefaultMaxBodyBytes, RateLimit: DefaultRateLimit,
		RateBurst: DefaultRateBurst, TokenCacheSize: DefaultTokenCacheSize,
		ReportHideThreshold: DefaultReportHideThreshold, ReportsPerHour: DefaultReportsPerHour}
	if c := DefaultConfig(); !reflect.DeepEqual(c, want) {
		t.Errorf("DefaultConfig() = %+v, want %+v", c, want)
	}
}

// TestConfigBadValues: each bad value is an error naming its variable, all of them at
// once; none becomes a zero.
func TestConfigBadValues(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"HEARTH_APPCHECK": "sometimes", "HEARTH_AUTH_TIMEOUT": "soon", "HEARTH_RATE_LIMIT": "x",
		"HEARTH_RATE_BURST": "7.5", "HEARTH_MAX_BODY_BYTES": "64k", "HEARTH_EVENTS": "maybe", "HEARTH_TOKEN_CACHE_SIZE": "99999999999999999999",
	}
	_, err := configFromEnv(bad)
	if err == nil {
		t.Fatal("parse(bad values) = nil error")
	}
	for name, v := range bad {
		if !strings.Contains(err.Error(), name+"=") || !strings.Contains(err.Error(), v) {
			t.Errorf("parse(bad values) = %v\nwant it to name %s and %q", err, name, v)
		}
	}
}

func TestConfigFlagsOverrideEnv(t *testing.T) {
	t.Parallel()
	c, _ := configFromEnv(map[string]string{"HEARTH_FIRESTORE_PROJECT": "demo-x", "HEARTH_ADDR": "127.0.0.1:1"})
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-addr", "127.0.0.1:2", "-appcheck", "monitor", "-auth-project", "demo-a", "-trusted-proxies", "10.1.2.3"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:2" || c.AppCheck != AppCheckMonitor || c.AuthProject != "demo-a" || c.FirestoreProject != "demo-x" ||
		len(c.TrustedProxies) != 1 {
		t.Errorf("after flags = %+v", c)
	}
	if err := fs.Parse([]string{"-appcheck", "always"}); err == nil {
		t.Error("-appcheck always: nil error")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultConfig()
	ok.FirestoreProject, ok.AuthProject = "p", "p"
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"addr", func(c *Config) { c.Addr = "nope" }},
		{"firestore project", func(c *Config) { c.FirestoreProject = "" }},
		{"auth project", func(c *Config) { c.AuthProject = "" }},
		{"app check", func(c *Config) { c.AppCheck = "x" }},
		{"auth timeout", func(c *Config) { c.AuthTimeout = 0 }},
		{"request timeout", func(c *Config) { c.RequestTimeout = -1 }},
		{"body", func(c *Config) { c.MaxBodyBytes = 10 }},
		{"rate", func(c *Config) { c.RateLimit = -1 }},
		{"burst", func(c *Config) { c.RateBurst = 0 }},
		{"proxy", func(c *Config) { c.TrustedProxies = []string{"example.com"} }},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%s) = nil error", tt.name)
		}
	}
	if _, err := New(ok, Deps{}); err == nil || !strings.Contains(err.Error(), "Firestore") {
		t.Errorf("New(no deps) = %v, want an error naming Firestore", err)
	}
}

// TestDepsFromEnv builds the production dependencies from the emulator
// variables of the suite, as `hearth serve` does, and serves /readyz.
func TestDepsFromEnv(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	cfg := testConfig(env)
	cfg.StorageBucket = env.Bucket
	deps, cleanup, err := DepsFromEnv(t.Context(), cfg)
	if err != nil {
		t.Fatalf("DepsFromEnv() = %v", err)
	}
	defer cleanup()
	if deps.Firestore == nil || deps.Auth == nil || deps.Storage == nil || deps.AppCheck != nil {
		t.Errorf("deps = %+v, want Firestore, Auth and Storage, no App Check (off)", deps)
	}
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	hr := httptest.NewRequest("GET", "/readyz", nil)
	srv.Handler().ServeHTTP(w, hr)
	checkOpenAPI(t, hr, recorded(w))
	if w.Code != 200 {
		t.Errorf("/readyz = %d %s, want 200", w.Code, w.Body)
	}
	bad := cfg
	bad.FirestoreProject = ""
	if _, _, err := DepsFromEnv(t.Context(), bad); err == nil {
		t.Error("DepsFromEnv(no project) = nil error")
	}
}
