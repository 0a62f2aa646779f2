package media

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/envconfig"
)

// configFromEnv reads a Config from the process environment as app.LoadConfig does
// (this package's tests cannot import app, which imports it).
func configFromEnv(t testing.TB) Config {
	t.Helper()
	return parseConfig(t, os.LookupEnv)
}

func parseConfig(t testing.TB, lookup envconfig.Lookup) Config {
	t.Helper()
	var c Config
	if err := envconfig.Parse(lookup, &c); err != nil {
		t.Fatalf("parse media config: %v", err)
	}
	if c.PubSubProject == "" {
		c.PubSubProject, _ = lookup("GOOGLE_CLOUD_PROJECT")
	}
	return c.Resolve()
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HEARTH_STORAGE_BUCKET":        "bkt",
		"STORAGE_EMULATOR_HOST":        "http://localhost:9199/",
		"HEARTH_MEDIA_TYPES":           "image/jpeg, image/png",
		"HEARTH_UPLOAD_QUOTA_COUNT":    "7",
		"HEARTH_UPLOAD_QUOTA_BYTES":    "1000",
		"HEARTH_MEDIA_DOWNLOAD_TTL":    "2m",
		"PUBSUB_EMULATOR_HOST":         "127.0.0.1:8085",
		"GOOGLE_CLOUD_PROJECT":         "demo-x",
		"HEARTH_STORAGE_SIGNER_EMAIL":  "signer@p.iam.gserviceaccount.com",
		"HEARTH_MEDIA_EXPIRE_GRACE":    "5m",
		"HEARTH_MEDIA_EXPIRE_INTERVAL": "30s",
	}
	cfg := parseConfig(t, envconfig.Map(env))
	if cfg.Bucket != "bkt" || cfg.URLHost != "localhost:9199" || !cfg.URLInsecure ||
		strings.Join(cfg.AllowedTypes, ",") != "image/jpeg,image/png" || cfg.DailyUploads != 7 ||
		cfg.DailyUploadBytes != 1000 || cfg.DownloadURLTTL != 2*time.Minute || !cfg.PubSubEnabled ||
		cfg.PubSubProject != "demo-x" || cfg.SignerEmail != "signer@p.iam.gserviceaccount.com" ||
		cfg.ExpireGrace != 5*time.Minute || cfg.ExpireInterval != 30*time.Second {
		t.Errorf("parse = %+v", cfg)
	}
	if again := cfg.Resolve(); again.URLHost != cfg.URLHost || again.URLInsecure != cfg.URLInsecure || again.PubSubEnabled != cfg.PubSubEnabled {
		t.Errorf("Resolve twice = %+v, want what once gave", again)
	}
	if err := cfg.validate(); err != nil || cfg.DownloadMaxAge != time.Minute {
		t.Errorf("validate() = %v, DownloadMaxAge %s; want nil and half the 2m TTL", err, cfg.DownloadMaxAge)
	}

	prod := parseConfig(t, envconfig.Map(map[string]string{"HEARTH_STORAGE_BUCKET": "b"}))
	if prod.URLHost != "" || prod.URLInsecure || prod.PubSubEnabled {
		t.Errorf("parse(production) = %+v, want default host, https, no Pub/Sub", prod)
	}
	if err := prod.validate(); err != nil || prod.ExpireGrace != DefaultExpireGrace || prod.ExpireInterval != DefaultExpireInterval {
		t.Errorf("validate(production) = %v, expiry grace %s every %s; want the defaults", err, prod.ExpireGrace, prod.ExpireInterval)
	}

	// An https emulator gives https URLs; a subscription alone turns the subscriber on.
	tls := parseConfig(t, envconfig.Map(map[string]string{"STORAGE_EMULATOR_HOST": "https://gcs.test", "HEARTH_MEDIA_SUBSCRIPTION": "s"}))
	if tls.URLHost != "gcs.test" || tls.URLInsecure || !tls.PubSubEnabled {
		t.Errorf("parse(https emulator, subscription) = %+v", tls)
	}
}

// TestConfigNoDemoProject: receiving storage notifications without a project is an
// error; the project is never made up.
func TestConfigNoDemoProject(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, envconfig.Map(map[string]string{"HEARTH_STORAGE_BUCKET": "b", "PUBSUB_EMULATOR_HOST": "127.0.0.1:1"}))
	err := c.validate()
	if err == nil || !strings.Contains(err.Error(), "HEARTH_MEDIA_PUBSUB_PROJECT") {
		t.Errorf("validate(Pub/Sub without a project) = %v, want an error naming HEARTH_MEDIA_PUBSUB_PROJECT", err)
	}
	if strings.Contains(c.PubSubProject, "demo") {
		t.Errorf("PubSubProject = %q, want no demo fallback", c.PubSubProject)
	}
}

// TestConfigDefaults: the env tags' defaults are the Default* constants.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, envconfig.Map(nil))
	want := Config{
		URLInsecure: false, DailyUploads: DefaultDailyUploads, DailyUploadBytes: DefaultDailyUploadBytes,
		DownloadURLTTL: DefaultDownloadURLTTL, Topic: DefaultTopic, Workers: DefaultWorkers,
		WorkerMemory: DefaultWorkerMemory, WorkerCPU: DefaultWorkerCPU, WorkerTimeout: DefaultWorkerTimeout,
		ExpireGrace: DefaultExpireGrace, ExpireInterval: DefaultExpireInterval,
	}
	if c.DailyUploads != want.DailyUploads || c.DailyUploadBytes != want.DailyUploadBytes ||
		c.DownloadURLTTL != want.DownloadURLTTL || c.Topic != want.Topic || c.Workers != want.Workers ||
		c.WorkerMemory != want.WorkerMemory || c.WorkerCPU != want.WorkerCPU || c.WorkerTimeout != want.WorkerTimeout ||
		c.ExpireGrace != want.ExpireGrace || c.ExpireInterval != want.ExpireInterval || c.URLInsecure || c.Subscription != "" {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	// The fields whose default depends on another stay zero for validate to fill in.
	if err := c.check(false); err != nil || c.DownloadMaxAge != DefaultDownloadMaxAge || c.Subscription != DefaultSubscription {
		t.Errorf("check(defaults) = %v, DownloadMaxAge %s, Subscription %q", err, c.DownloadMaxAge, c.Subscription)
	}
}

// TestConfigBadValues: every bad value is an error naming its variable, all at once.
func TestConfigBadValues(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"HEARTH_UPLOAD_QUOTA_COUNT":    "many",
		"HEARTH_MEDIA_DOWNLOAD_TTL":    "soon",
		"HEARTH_STORAGE_URL_INSECURE":  "perhaps",
		"HEARTH_MEDIA_EXPIRE_GRACE":    "a while",
		"HEARTH_MEDIA_EXPIRE_INTERVAL": "often",
		"HEARTH_MEDIA_WORKER_MEMORY":   "2GB",
	}
	var c Config
	err := envconfig.Parse(envconfig.Map(bad), &c)
	if err == nil {
		t.Fatal("Parse(bad values) = nil error")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Parse(bad values) = %v, want it to name %s", err, name)
		}
	}
	for _, c := range []Config{{Bucket: "b", DownloadURLTTL: time.Minute, DownloadMaxAge: time.Minute}, {Bucket: "b", Workers: -1},
		{Bucket: "b", ExpireGrace: -time.Minute}, {Bucket: "b", WorkerMemory: 1}, {Bucket: "b", WorkerCPU: time.Millisecond}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	var none Config
	if err := none.validate(); err == nil || !strings.Contains(err.Error(), "HEARTH_STORAGE_BUCKET") {
		t.Errorf("validate(no bucket) = %v, want an error naming HEARTH_STORAGE_BUCKET", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Validate(no bucket) = %v, want nil: media is off", err)
	}
}
