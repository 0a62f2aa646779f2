package admin

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/oidc"
)

// AppCheckMode says what the API does with Firebase App Check tokens
// (X-Firebase-AppCheck) on the client routes (/v1).
type AppCheckMode string

// The App Check modes.
const (
	// AppCheckOff ignores the header.
	AppCheckOff AppCheckMode = "off"
	// AppCheckMonitor verifies the token when present and logs and counts
	// missing or invalid tokens, but lets the request through: the mode to
	// run in while apps roll out App Check.
	AppCheckMonitor AppCheckMode = "monitor"
	// AppCheckEnforce rejects requests without a valid token with 401.
	AppCheckEnforce AppCheckMode = "enforce"
)

// Valid reports whether m is one of the defined modes.
func (m AppCheckMode) Valid() bool {
	return m == AppCheckOff || m == AppCheckMonitor || m == AppCheckEnforce
}

// UnmarshalText implements encoding.TextUnmarshaler (flags, env).
func (m *AppCheckMode) UnmarshalText(b []byte) error {
	v := AppCheckMode(strings.ToLower(strings.TrimSpace(string(b))))
	if !v.Valid() {
		return fmt.Errorf("app check mode %q: want off, monitor or enforce", b)
	}
	*m = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (m AppCheckMode) MarshalText() ([]byte, error) { return []byte(m), nil }

// Default values of Config.
const (
	DefaultAddr            = "127.0.0.1:8088"
	DefaultAuthTimeout     = 2 * time.Second
	DefaultRequestTimeout  = 30 * time.Second
	DefaultShutdownTimeout = 7 * time.Second
	DefaultReadyCacheTTL   = 5 * time.Second
	DefaultMaxBodyBytes    = 64 << 10
	DefaultRateLimit       = 20.0
	DefaultRateBurst       = 60
	DefaultTokenCacheSize  = 10_000
	// DefaultReportHideThreshold and DefaultReportsPerHour are the report
	// limits (internal/reports).
	DefaultReportHideThreshold = 3
	DefaultReportsPerHour      = 20
)

// Config is the API server's configuration. Every field is set by a HEARTH_*
// environment variable (its env tag; app.LoadConfig reads them all) and by a flag
// of `hearth serve` (RegisterFlags); flags win over the environment. The tags are
// the table of settings that docs/configuration.md is generated from.
type Config struct {
	// Addr is the listen address. When HEARTH_ADDR is unset and PORT is set
	// (Cloud Run), app.LoadConfig makes it ":$PORT".
	Addr string `env:"HEARTH_ADDR" envDefault:"127.0.0.1:8088" doc:"listen address of the API (host:port); when unset and PORT is set (Cloud Run), :$PORT"`

	// FirestoreProject is the project whose Firestore holds the data.
	FirestoreProject string `env:"HEARTH_FIRESTORE_PROJECT" doc:"project whose Firestore holds the data; default GOOGLE_CLOUD_PROJECT"`

	// AuthProject is the Firebase project whose ID tokens are accepted: the
	// tokens' audience. It is separate from FirestoreProject because the tests
	// give every test a fresh Firestore project while the Auth emulator serves
	// one project.
	AuthProject string `env:"HEARTH_AUTH_PROJECT" doc:"Firebase project whose ID tokens are accepted (their audience); default GOOGLE_CLOUD_PROJECT"`

	// AppCheck is what the client routes do with App Check tokens.
	AppCheck AppCheckMode `env:"HEARTH_APPCHECK" envDefault:"off" doc:"App Check on /v1: off, monitor (verify and log, let through) or enforce (401 without a valid token)"`

	// AuthTimeout bounds one token verification, including the Auth backend's
	// user lookup. Without it the Admin SDK retries an unreachable backend for
	// about 7 s; with it the client gets 503 UNAVAILABLE after AuthTimeout.
	AuthTimeout time.Duration `env:"HEARTH_AUTH_TIMEOUT" envDefault:"2s" doc:"bound on one ID-token verification; the client gets 503 after it"`

	// RequestTimeout bounds the work of one request after authentication.
	RequestTimeout time.Duration `env:"HEARTH_REQUEST_TIMEOUT" envDefault:"30s" doc:"bound on the work of one request after authentication"`

	// ShutdownTimeout is how long Run waits for in-flight requests after
	// SIGTERM before closing connections, within Cloud Run's 10 s after SIGTERM.
	// Requests still running a second before its end are ended (503, or 500 for
	// events: see Serve).
	ShutdownTimeout time.Duration `env:"HEARTH_SHUTDOWN_TIMEOUT" envDefault:"7s" doc:"grace period for in-flight requests after SIGTERM; requests still running a second before its end answer 503 (events 500, so Eventarc redelivers); keep it below Cloud Run's 10s"`

	// ReadyCacheTTL is how long /readyz reuses its last Firestore and Auth check
	// (0 checks on every probe). The probe is unauthenticated: a flood of probes
	// makes at most one check per interval.
	ReadyCacheTTL time.Duration `env:"HEARTH_READY_CACHE" envDefault:"5s" doc:"how long /readyz reuses its last Firestore and Auth check; 0 checks on every probe"`

	// MaxBodyBytes is the largest request body of most routes. Routes that
	// take a member list allow MemberListBodyBytes, enough for MaxMembers uids.
	MaxBodyBytes int64 `env:"HEARTH_MAX_BODY_BYTES" envDefault:"65536" doc:"largest request body in bytes (routes taking a member list allow more); at least 1024"`

	// RateLimit is the sustained number of requests per second one user may
	// make; 0 disables rate limiting.
	RateLimit float64 `env:"HEARTH_RATE_LIMIT" envDefault:"20" doc:"sustained requests per second per user; 0 disables rate limiting"`

	// RateBurst is how many requests a user may make at once before the rate
	// applies.
	RateBurst int `env:"HEARTH_RATE_BURST" envDefault:"60" doc:"requests a user may make at once before the rate applies"`

	// TokenCacheSize is how many verified ID tokens are remembered for the
	// routes that do not check revocation, each until it expires (about 1 MB
	// at the default; 0 disables it).
	TokenCacheSize int `env:"HEARTH_TOKEN_CACHE_SIZE" envDefault:"10000" doc:"verified ID tokens remembered for the routes that do not check revocation (about 1 MB at 10000); 0 disables the cache"`

	// TrustedProxies are the proxy addresses or CIDRs whose X-Forwarded-For is
	// believed for the client IP in access logs.
	TrustedProxies []string `env:"HEARTH_TRUSTED_PROXIES" doc:"comma-separated proxy IPs or CIDRs whose X-Forwarded-For is believed for the client IP in access logs"`

	// StorageBucket is the Cloud Storage bucket of media uploads, for the
	// uploads and media routes.
	StorageBucket string `env:"HEARTH_STORAGE_BUCKET" doc:"Cloud Storage bucket of media uploads; unset: the upload and media routes answer 503 and the media checks do not run"`

	// Events serves POST /events/* (Eventarc, Pub/Sub push) and
	// POST /schedulers/{name} (Cloud Scheduler) on this server (default off:
	// the routes answer 404). Every request to them must carry a
	// Google-signed OIDC ID token whose audience is one of EventsAudiences and
	// whose verified email is one of EventsServiceAccounts; both are required
	// when Events is on.
	Events bool `env:"HEARTH_EVENTS" envDefault:"off" doc:"serve POST /events/* and /schedulers/{name} to OIDC-verified service accounts; off: they answer 404"`

	// EventsAudiences are the accepted token audiences: the service's URL as
	// Eventarc, Pub/Sub and Cloud Scheduler address it.
	EventsAudiences []string `env:"HEARTH_EVENTS_AUDIENCE" doc:"comma-separated accepted OIDC audiences of /events and /schedulers: the service URL; required with HEARTH_EVENTS=on"`

	// EventsServiceAccounts are the service accounts allowed to call the
	// event and scheduler routes.
	EventsServiceAccounts []string `env:"HEARTH_EVENTS_SERVICE_ACCOUNTS" doc:"comma-separated service-account emails allowed on /events and /schedulers; required with HEARTH_EVENTS=on"`

	// EventsCertsURL, for demo-* projects only, is where the OIDC verifier of
	// the event routes fetches its keys instead of Google's
	// (https://www.googleapis.com/oauth2/v3/certs): the JWKS of a local issuer,
	// so that a production-shaped test runs the events service with its OIDC
	// check on. Every other check (issuer accounts.google.com, audience,
	// expiry, verified allowed email) is unchanged. Validate refuses it unless
	// both projects start with "demo-", which no real project can.
	EventsCertsURL string `env:"HEARTH_EVENTS_CERTS_URL" doc:"demo-* projects only (refused otherwise): fetch the OIDC keys of /events and /schedulers from this local issuer's JWKS URL instead of Google's; every other check is unchanged"`

	// WebAPIKey is the Firebase web API key of AuthProject that the console
	// (/console/) sends to Firebase Auth's REST API to sign administrators in.
	// It is not a secret (every web app ships it); with the Auth emulator any
	// value works.
	WebAPIKey string `env:"HEARTH_WEB_API_KEY" doc:"Firebase web API key the console at /console/ signs in with (Firebase console, project settings); not needed with the Auth emulator"`
	// ReportHideThreshold is how many members must report a message (since
	// its last resolution) before Hearth hides it (messages/{id}.hidden).
	ReportHideThreshold int `env:"HEARTH_REPORT_HIDE_THRESHOLD" envDefault:"3" doc:"members whose reports of a message (since its last resolution) hide it: hidden: true on the message; at least 1"`

	// ReportsPerHour is how many reports one user may file per clock hour
	// (UTC); beyond it POST .../reports answers 429.
	ReportsPerHour int `env:"HEARTH_REPORTS_PER_HOUR" envDefault:"20" doc:"reports one user may file per clock hour (UTC); beyond it the report route answers 429; at least 1"`

	// NoClientRoutes leaves out the apps' routes (/v1, /admin/v1, /openapi.json):
	// they answer 404. A process of `hearth serve` without the api role sets it
	// (app.Roles); /healthz, /readyz and /metrics are always served.
	NoClientRoutes bool `env:"-"`
}

// DefaultConfig returns the defaults of the env tags, with both projects empty.
func DefaultConfig() Config {
	var c Config
	if err := envconfig.Parse(envconfig.Map(nil), &c); err != nil {
		panic(fmt.Sprintf("admin: the defaults of Config do not parse: %v", err)) // a bad tag: TestDefaults fails
	}
	return c
}

// RegisterFlags defines a flag for every field on fs, with c's current
// values as defaults, writing into c when fs is parsed.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (HEARTH_ADDR; PORT on Cloud Run)")
	fs.StringVar(&c.FirestoreProject, "firestore-project", c.FirestoreProject, "Firestore project (HEARTH_FIRESTORE_PROJECT, default GOOGLE_CLOUD_PROJECT)")
	fs.StringVar(&c.AuthProject, "auth-project", c.AuthProject, "Firebase Auth project whose ID tokens are accepted (HEARTH_AUTH_PROJECT, default GOOGLE_CLOUD_PROJECT)")
	fs.TextVar(&c.AppCheck, "appcheck", c.AppCheck, "App Check on /v1: off, monitor or enforce (HEARTH_APPCHECK)")
	fs.DurationVar(&c.AuthTimeout, "auth-timeout", c.AuthTimeout, "bound on one token verification; 503 after it (HEARTH_AUTH_TIMEOUT)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "bound on the work of one request (HEARTH_REQUEST_TIMEOUT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for in-flight requests on shutdown (HEARTH_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.ReadyCacheTTL, "ready-cache", c.ReadyCacheTTL, "how long /readyz reuses its dependency check; 0 checks every probe (HEARTH_READY_CACHE)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest request body (HEARTH_MAX_BODY_BYTES)")
	fs.Float64Var(&c.RateLimit, "rate-limit", c.RateLimit, "requests per second per user, 0 = unlimited (HEARTH_RATE_LIMIT)")
	fs.IntVar(&c.RateBurst, "rate-burst", c.RateBurst, "burst of requests per user (HEARTH_RATE_BURST)")
	fs.IntVar(&c.TokenCacheSize, "token-cache-size", c.TokenCacheSize, "verified ID tokens remembered for reads, 0 = off (HEARTH_TOKEN_CACHE_SIZE)")
	fs.Func("trusted-proxies", "comma-separated proxy addresses/CIDRs trusted for X-Forwarded-For (HEARTH_TRUSTED_PROXIES)", func(v string) error {
		c.TrustedProxies = envconfig.SplitList(v)
		return nil
	})
	fs.StringVar(&c.WebAPIKey, "web-api-key", c.WebAPIKey, "Firebase web API key for the console's sign-in (HEARTH_WEB_API_KEY)")
	fs.IntVar(&c.ReportHideThreshold, "report-hide-threshold", c.ReportHideThreshold, "reports of a message that hide it (HEARTH_REPORT_HIDE_THRESHOLD)")
	fs.IntVar(&c.ReportsPerHour, "reports-per-hour", c.ReportsPerHour, "reports one user may file per hour (HEARTH_REPORTS_PER_HOUR)")
	fs.StringVar(&c.StorageBucket, "storage-bucket", c.StorageBucket, "Cloud Storage bucket for media (HEARTH_STORAGE_BUCKET)")
	fs.BoolVar(&c.Events, "events", c.Events, "serve /events/* and /schedulers/* to OIDC-verified service accounts; off = 404 (HEARTH_EVENTS=on|off)")
	fs.Func("events-audience", "comma-separated accepted OIDC audiences: the service URL (HEARTH_EVENTS_AUDIENCE)", func(v string) error {
		c.EventsAudiences = envconfig.SplitList(v)
		return nil
	})
	fs.Func("events-service-accounts", "comma-separated service-account emails allowed on /events and /schedulers (HEARTH_EVENTS_SERVICE_ACCOUNTS)", func(v string) error {
		c.EventsServiceAccounts = envconfig.SplitList(v)
		return nil
	})
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("HEARTH_ADDR (addr) %q: %v", c.Addr, err)
	}
	if c.FirestoreProject == "" {
		bad("HEARTH_FIRESTORE_PROJECT (firestore project): required; set it or GOOGLE_CLOUD_PROJECT")
	}
	if c.AuthProject == "" {
		bad("HEARTH_AUTH_PROJECT (auth project): required; set it or GOOGLE_CLOUD_PROJECT")
	}
	if !c.AppCheck.Valid() {
		bad("HEARTH_APPCHECK (app check mode) %q: want off, monitor or enforce", c.AppCheck)
	}
	if c.AuthTimeout <= 0 {
		bad("HEARTH_AUTH_TIMEOUT (auth timeout) %s: must be positive", c.AuthTimeout)
	}
	if c.RequestTimeout <= 0 {
		bad("HEARTH_REQUEST_TIMEOUT (request timeout) %s: must be positive", c.RequestTimeout)
	}
	if c.ShutdownTimeout < 0 {
		bad("HEARTH_SHUTDOWN_TIMEOUT (shutdown timeout) %s: must not be negative", c.ShutdownTimeout)
	}
	if c.ReadyCacheTTL < 0 {
		bad("HEARTH_READY_CACHE (ready cache) %s: must not be negative", c.ReadyCacheTTL)
	}
	if c.MaxBodyBytes < 1<<10 {
		bad("HEARTH_MAX_BODY_BYTES (max body bytes) %d: must be at least 1024", c.MaxBodyBytes)
	}
	if c.RateLimit < 0 {
		bad("HEARTH_RATE_LIMIT (rate limit) %g: must not be negative", c.RateLimit)
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		bad("HEARTH_RATE_BURST (rate burst) %d: must be at least 1", c.RateBurst)
	}
	if c.TokenCacheSize < 0 {
		bad("HEARTH_TOKEN_CACHE_SIZE (token cache size) %d: must not be negative", c.TokenCacheSize)
	}
	if c.ReportHideThreshold < 1 {
		bad("HEARTH_REPORT_HIDE_THRESHOLD (report hide threshold) %d: must be at least 1", c.ReportHideThreshold)
	}
	if c.ReportsPerHour < 1 {
		bad("HEARTH_REPORTS_PER_HOUR (reports per hour) %d: must be at least 1", c.ReportsPerHour)
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad("HEARTH_TRUSTED_PROXIES (trusted proxy) %q: not an IP or CIDR", p)
			}
		}
	}
	if c.Events {
		if err := c.eventCallers().Validate(); err != nil {
			bad("events on (HEARTH_EVENTS) needs HEARTH_EVENTS_AUDIENCE and HEARTH_EVENTS_SERVICE_ACCOUNTS: %w", err)
		}
	}
	if err := c.localIssuer(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// demoPrefix starts the project ids the Firebase tools treat as demo projects: no real
// project can have one.
const demoPrefix = "demo-"

// localIssuer refuses HEARTH_EVENTS_CERTS_URL outside demo projects, and a value that is
// not an http(s) URL. Keys from anywhere but Google would let whoever holds them act as
// Eventarc and Cloud Scheduler, so a real project never takes them.
func (c Config) localIssuer() error {
	if c.EventsCertsURL == "" {
		return nil
	}
	for _, p := range []string{c.FirestoreProject, c.AuthProject} {
		if !strings.HasPrefix(p, demoPrefix) {
			return fmt.Errorf("HEARTH_EVENTS_CERTS_URL is set but project %q does not start with %q: "+
				"OIDC keys from a local issuer are for demo projects only; unset it to verify against Google's keys", p, demoPrefix)
		}
	}
	u, err := url.Parse(c.EventsCertsURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("HEARTH_EVENTS_CERTS_URL %q: want the http(s) URL of a JWKS", c.EventsCertsURL)
	}
	return nil
}

// eventCallers is the OIDC configuration of the event and scheduler routes.
func (c Config) eventCallers() oidc.Config {
	return oidc.Config{Audiences: c.EventsAudiences, ServiceAccounts: c.EventsServiceAccounts}
}
