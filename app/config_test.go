package app

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/push"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md")

// TestLoadConfigDefaults: with only the project set, every setting is its old default
// (the Default* constants of each package).
func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "my-proj"}))
	if err != nil {
		t.Fatalf("LoadConfig(project only) = %v", err)
	}
	wantAPI := admin.Config{Addr: admin.DefaultAddr, FirestoreProject: "my-proj", AuthProject: "my-proj", AppCheck: admin.AppCheckOff,
		AuthTimeout: admin.DefaultAuthTimeout, RequestTimeout: admin.DefaultRequestTimeout, ShutdownTimeout: admin.DefaultShutdownTimeout, ReadyCacheTTL: admin.DefaultReadyCacheTTL,
		MaxBodyBytes: admin.DefaultMaxBodyBytes, RateLimit: admin.DefaultRateLimit, RateBurst: admin.DefaultRateBurst,
		TokenCacheSize: admin.DefaultTokenCacheSize, ReportHideThreshold: admin.DefaultReportHideThreshold, ReportsPerHour: admin.DefaultReportsPerHour}
	wantFunctions := functions.Config{Workers: functions.DefaultWorkers, QueueSize: functions.DefaultQueueSize,
		HandlerTimeout: functions.DefaultHandlerTimeout, PresenceSweepInterval: functions.DefaultPresenceSweepInterval,
		TypingCleanupInterval: functions.DefaultTypingCleanupInterval,
		LargeRoomMembers:      functions.DefaultLargeRoomMembers, LargeRoomWindow: functions.DefaultLargeRoomWindow}
	wantPush := push.Config{Window: push.DefaultWindow, Lease: push.DefaultLease, PollInterval: push.DefaultPollInterval,
		MaxConcurrentBatches: push.DefaultMaxConcurrentBatches, TokenMaxAge: push.DefaultTokenMaxAge,
		MentionsPerMinute: push.DefaultMentionsPerMinute}
	wantMedia := media.Config{PubSubProject: "my-proj", Topic: media.DefaultTopic, DailyUploads: media.DefaultDailyUploads,
		DailyUploadBytes: media.DefaultDailyUploadBytes, DownloadURLTTL: media.DefaultDownloadURLTTL, Workers: media.DefaultWorkers,
		WorkerMemory: media.DefaultWorkerMemory, WorkerCPU: media.DefaultWorkerCPU, WorkerTimeout: media.DefaultWorkerTimeout,
		ExpireGrace: media.DefaultExpireGrace, ExpireInterval: media.DefaultExpireInterval}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"API", c.API, wantAPI},
		{"Functions", c.Functions, wantFunctions},
		{"Push", c.Push, wantPush},
		{"Media", c.Media, wantMedia},
		{"Log", c.Log, LogConfig{Format: LogJSON, Level: slog.LevelInfo}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("LoadConfig().%s = %+v\nwant %+v", tt.name, tt.got, tt.want)
		}
	}
}

// TestLoadConfigNoDemoProject: without a project, LoadConfig fails saying which
// variables to set; it never picks a demo project.
func TestLoadConfigNoDemoProject(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envconfig.Map(map[string]string{
		"HEARTH_STORAGE_BUCKET": "b", "PUBSUB_EMULATOR_HOST": "127.0.0.1:1", // media on, receiving notifications
	}))
	if err == nil {
		t.Fatal("LoadConfig(no project) = nil error")
	}
	for _, name := range []string{"HEARTH_FIRESTORE_PROJECT", "HEARTH_AUTH_PROJECT", "HEARTH_MEDIA_PUBSUB_PROJECT", "GOOGLE_CLOUD_PROJECT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("LoadConfig(no project) = %v\nwant it to name %s", err, name)
		}
	}
	for _, p := range []string{c.API.FirestoreProject, c.API.AuthProject, c.Media.PubSubProject} {
		if p != "" {
			t.Errorf("LoadConfig(no project) made up project %q", p)
		}
	}
}

// TestLoadConfigProjects: GOOGLE_CLOUD_PROJECT is the default of every project id; each
// own variable wins.
func TestLoadConfigProjects(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "HEARTH_AUTH_PROJECT": "auth",
		"HEARTH_MEDIA_PUBSUB_PROJECT": "events"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.API.FirestoreProject != "p" || c.API.AuthProject != "auth" || c.Media.PubSubProject != "events" {
		t.Errorf("projects = %q, %q, %q; want p, auth, events", c.API.FirestoreProject, c.API.AuthProject, c.Media.PubSubProject)
	}
}

// TestLoadConfigEveryError: bad values of every kind (int, duration, switch, enum) in
// every component are reported at once, each naming its variable, together with the
// validation errors of the components whose variables parsed.
func TestLoadConfigEveryError(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"HEARTH_RATE_BURST":          "sixty",   // int (API)
		"HEARTH_MAX_BODY_BYTES":      "64KiB",   // int64 (API)
		"HEARTH_APPCHECK":            "strict",  // enum (API)
		"HEARTH_EVENTS":              "maybe",   // switch (API)
		"HEARTH_PUSH_WINDOW":         "soon",    // duration (Push)
		"HEARTH_PUSH_LOG":            "loud",    // switch (Push)
		"HEARTH_LOG_LEVEL":           "chatty",  // enum (Log)
		"HEARTH_LOG_FORMAT":          "xml",     // enum (Log)
		"HEARTH_MEDIA_WORKER_MEMORY": "2GB",     // int64 (Media)
		"HEARTH_MEDIA_WORKER_CPU":    "30",      // duration without a unit (Media)
		"HEARTH_RATE_LIMIT":          "fastest", // float (API)
	}
	env := map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "HEARTH_STORAGE_BUCKET": "b",
		"HEARTH_FUNCTIONS_WORKERS": "-3"} // parses, but is invalid
	for k, v := range bad {
		env[k] = v
	}
	_, err := LoadConfig(envconfig.Map(env))
	if err == nil {
		t.Fatal("LoadConfig(bad values) = nil error")
	}
	for name, v := range bad {
		if !strings.Contains(err.Error(), name+`="`+v+`"`) {
			t.Errorf("LoadConfig(bad values): %s=%q not named in\n%v", name, v, err)
		}
	}
	if !strings.Contains(err.Error(), "HEARTH_FUNCTIONS_WORKERS (Workers) -3 is negative") {
		t.Errorf("LoadConfig(bad values) = %v\nwant the functions validation error too", err)
	}
	if got := envconfig.BadVars(err); len(got) != len(bad) {
		t.Errorf("BadVars = %q, want the %d bad variables", got, len(bad))
	}
}

// TestLoadConfigValidates: LoadConfig calls the Validate of each component.
func TestLoadConfigValidates(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"HEARTH_MAX_BODY_BYTES":      {"HEARTH_MAX_BODY_BYTES": "10"},
		"HEARTH_PUSH_LEASE":          {"HEARTH_PUSH_LEASE": "1s"},
		"HEARTH_PRESENCE_SWEEP":      {"HEARTH_PRESENCE_SWEEP": "-1s"},
		"HEARTH_MEDIA_WORKER_MEMORY": {"HEARTH_STORAGE_BUCKET": "b", "HEARTH_MEDIA_WORKER_MEMORY": "1024"},
		"HEARTH_EVENTS_AUDIENCE":     {"HEARTH_EVENTS": "on"},
	} {
		env["GOOGLE_CLOUD_PROJECT"] = "p"
		if _, err := LoadConfig(envconfig.Map(env)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("LoadConfig(%v) = %v, want an error naming %s", env, err, name)
		}
	}
	// Media is off without a bucket: its settings are not checked.
	if _, err := LoadConfig(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "HEARTH_MEDIA_WORKER_MEMORY": "1024"})); err != nil {
		t.Errorf("LoadConfig(media off, bad media setting) = %v, want nil", err)
	}
}

// TestLoadConfigPort: Cloud Run's PORT is the listen port unless HEARTH_ADDR is set.
func TestLoadConfigPort(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "PORT": "9000"}))
	if err != nil || c.API.Addr != ":9000" {
		t.Errorf("LoadConfig(PORT=9000) = %q, %v; want :9000", c.API.Addr, err)
	}
	c, err = LoadConfig(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "PORT": "9000", "HEARTH_ADDR": "0.0.0.0:1"}))
	if err != nil || c.API.Addr != "0.0.0.0:1" {
		t.Errorf("LoadConfig(PORT, HEARTH_ADDR) = %q, %v; want HEARTH_ADDR to win", c.API.Addr, err)
	}
	if _, err := LoadConfig(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "PORT": "x:y"})); err == nil ||
		!strings.Contains(err.Error(), "HEARTH_ADDR") {
		t.Errorf("LoadConfig(PORT=x:y) = %v, want an error about the address", err)
	}
}

// TestFlagsOverrideEnv: `hearth serve`'s flags win over the variables; -storage-bucket
// sets the bucket of the API and of the media checks.
func TestFlagsOverrideEnv(t *testing.T) {
	t.Parallel()
	c, err := ParseEnv(envconfig.Map(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "HEARTH_ADDR": "127.0.0.1:1",
		"HEARTH_STORAGE_BUCKET": "env-bucket", "HEARTH_LOG_LEVEL": "warn"}))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-addr", "127.0.0.1:2", "-storage-bucket", "flag-bucket", "-log-level", "debug", "-log-format", "text"}); err != nil {
		t.Fatal(err)
	}
	if c.API.Addr != "127.0.0.1:2" || c.API.StorageBucket != "flag-bucket" || c.Media.Bucket != "flag-bucket" ||
		c.Log.Level != slog.LevelDebug || c.Log.Format != LogText || c.API.FirestoreProject != "p" {
		t.Errorf("after flags = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(after flags) = %v", err)
	}
	if err := fs.Parse([]string{"-log-format", "xml"}); err == nil {
		t.Error("-log-format xml: nil error")
	}
}

// TestWriteHidesSecrets: `hearth config` prints every setting, and of a secret one only
// that it is set, whatever the value.
func TestWriteHidesSecrets(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-value-4711"
	env := map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}
	var c Config
	for _, f := range envconfig.Fields(&c) {
		if f.Secret && f.Type.Kind() == reflect.String {
			env[f.Var] = secret
		}
	}
	c, err := ParseEnv(envconfig.Map(env))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.Write(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), secret) {
		t.Errorf("Write shows a secret:\n%s", out.String())
	}
	for _, v := range envconfig.Vars(&c) {
		if !strings.Contains(out.String(), "\n"+v+"=") {
			t.Errorf("Write does not print %s:\n%s", v, out.String())
		}
	}
	if !strings.Contains(out.String(), "HEARTH_FIRESTORE_PROJECT=p\n") {
		t.Errorf("Write does not show the effective project:\n%s", out.String())
	}
}

// TestEverySettingDocumented: each setting has a doc tag, and a variable is shared by
// two fields only where they mean the same thing.
func TestEverySettingDocumented(t *testing.T) {
	t.Parallel()
	var c Config
	seen := map[string]string{}
	for _, f := range envconfig.Fields(&c) {
		if f.Doc == "" {
			t.Errorf("%s (%s) has no doc tag", f.Path, f.Var)
		}
		if prev, ok := seen[f.Var]; ok && f.Var != "HEARTH_STORAGE_BUCKET" {
			t.Errorf("%s is the variable of both %s and %s", f.Var, prev, f.Path)
		}
		seen[f.Var] = f.Path
	}
}

// TestConfigurationDoc fails when docs/configuration.md is not what the struct tags
// generate.
func TestConfigurationDoc(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDocs(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", "configuration.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; generate it with: go test ./app -run TestConfigurationDoc -update", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Errorf("docs/configuration.md is stale (the struct tags changed); regenerate it with:\n\tgo test ./app -run TestConfigurationDoc -update")
	}
}
