package admin

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

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
)

// Config is the API server's configuration. Every field can be set by a
// HEARTH_* environment variable (ConfigFromEnv) and by a flag of
// `hearth serve` (RegisterFlags); flags win over the environment.
type Config struct {
	// Addr is the listen address (HEARTH_ADDR, -addr). When HEARTH_ADDR is
	// unset and PORT is set (Cloud Run), it is ":$PORT".
	Addr string

	// FirestoreProject is the project whose Firestore holds the data
	// (HEARTH_FIRESTORE_PROJECT, default GOOGLE_CLOUD_PROJECT).
	FirestoreProject string

	// AuthProject is the Firebase project whose ID tokens are accepted: the
	// tokens' audience (HEARTH_AUTH_PROJECT, default GOOGLE_CLOUD_PROJECT).
	// It is separate from FirestoreProject because the tests give every test
	// a fresh Firestore project while the Auth emulator serves one project.
	AuthProject string

	// AppCheck is off, monitor or enforce (HEARTH_APPCHECK, default off).
	AppCheck AppCheckMode

	// AuthTimeout bounds one token verification, including the Auth
	// backend's user lookup (HEARTH_AUTH_TIMEOUT, default 2s). Without it the
	// Admin SDK retries an unreachable backend for about 7 s; with it the
	// client gets 503 UNAVAILABLE after AuthTimeout.
	AuthTimeout time.Duration

	// RequestTimeout bounds the work of one request after authentication
	// (HEARTH_REQUEST_TIMEOUT, default 30s).
	RequestTimeout time.Duration

	// ShutdownTimeout is how long Run waits for in-flight requests after
	// SIGTERM before closing connections (HEARTH_SHUTDOWN_TIMEOUT, default
	// 7s, within Cloud Run's 10 s after SIGTERM). Requests still running a
	// second before its end are ended (503, or 500 for events: see Serve).
	ShutdownTimeout time.Duration

	// ReadyCacheTTL is how long /readyz reuses its last Firestore and Auth
	// check (HEARTH_READY_CACHE, default 5s; 0 checks on every probe). The
	// probe is unauthenticated: a flood of probes makes at most one check
	// per interval.
	ReadyCacheTTL time.Duration

	// MaxBodyBytes is the largest request body of most routes
	// (HEARTH_MAX_BODY_BYTES, default 64 KiB). Routes that take a member list
	// allow MemberListBodyBytes, enough for MaxMembers uids.
	MaxBodyBytes int64

	// RateLimit is the sustained number of requests per second one user may
	// make (HEARTH_RATE_LIMIT, default 20); 0 disables rate limiting.
	RateLimit float64

	// RateBurst is how many requests a user may make at once before the rate
	// applies (HEARTH_RATE_BURST, default 60).
	RateBurst int

	// TokenCacheSize is how many verified ID tokens are remembered for the
	// routes that do not check revocation, each until it expires
	// (HEARTH_TOKEN_CACHE_SIZE, default 10000, about 1 MB; 0 disables it).
	TokenCacheSize int

	// TrustedProxies are the proxy addresses or CIDRs whose
	// X-Forwarded-For is believed for the client IP in access logs
	// (HEARTH_TRUSTED_PROXIES, comma separated; default none).
	TrustedProxies []string

	// StorageBucket is the Cloud Storage bucket of media uploads
	// (HEARTH_STORAGE_BUCKET), for the uploads and media routes.
	StorageBucket string

	// Events serves POST /events/* (Eventarc, Pub/Sub push) and
	// POST /schedulers/{name} (Cloud Scheduler) on this server (HEARTH_EVENTS
	// on/off, -events; default off: the routes answer 404). Every request to
	// them must carry a Google-signed OIDC ID token whose audience is one of
	// EventsAudiences and whose verified email is one of
	// EventsServiceAccounts; both are required when Events is on.
	Events bool

	// EventsAudiences are the accepted token audiences: the service's URL as
	// Eventarc, Pub/Sub and Cloud Scheduler address it
	// (HEARTH_EVENTS_AUDIENCE, comma separated).
	EventsAudiences []string

	// EventsServiceAccounts are the service accounts allowed to call the
	// event and scheduler routes (HEARTH_EVENTS_SERVICE_ACCOUNTS, comma
	// separated emails).
	EventsServiceAccounts []string
}

// DefaultConfig returns the defaults, with both projects empty.
func DefaultConfig() Config {
	return Config{
		Addr:            DefaultAddr,
		AppCheck:        AppCheckOff,
		AuthTimeout:     DefaultAuthTimeout,
		RequestTimeout:  DefaultRequestTimeout,
		ShutdownTimeout: DefaultShutdownTimeout,
		ReadyCacheTTL:   DefaultReadyCacheTTL,
		MaxBodyBytes:    DefaultMaxBodyBytes,
		RateLimit:       DefaultRateLimit,
		RateBurst:       DefaultRateBurst,
		TokenCacheSize:  DefaultTokenCacheSize,
	}
}

// ConfigFromEnv returns DefaultConfig overridden by the HEARTH_* variables
// that getenv (os.Getenv) returns. It does not validate: call Validate after
// applying flags.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = d
		}
	}
	if p := getenv("PORT"); p != "" {
		c.Addr = ":" + p
	}
	str("HEARTH_ADDR", &c.Addr)
	project := getenv("GOOGLE_CLOUD_PROJECT")
	c.FirestoreProject, c.AuthProject = project, project
	str("HEARTH_FIRESTORE_PROJECT", &c.FirestoreProject)
	str("HEARTH_AUTH_PROJECT", &c.AuthProject)
	if v := getenv("HEARTH_APPCHECK"); v != "" {
		if err := c.AppCheck.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_APPCHECK: %w", err))
		}
	}
	dur("HEARTH_AUTH_TIMEOUT", &c.AuthTimeout)
	dur("HEARTH_REQUEST_TIMEOUT", &c.RequestTimeout)
	dur("HEARTH_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	dur("HEARTH_READY_CACHE", &c.ReadyCacheTTL)
	if v := getenv("HEARTH_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_MAX_BODY_BYTES: %w", err))
		}
		c.MaxBodyBytes = n
	}
	if v := getenv("HEARTH_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_RATE_LIMIT: %w", err))
		}
		c.RateLimit = f
	}
	if v := getenv("HEARTH_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_RATE_BURST: %w", err))
		}
		c.RateBurst = n
	}
	if v := getenv("HEARTH_TOKEN_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_TOKEN_CACHE_SIZE: %w", err))
		}
		c.TokenCacheSize = n
	}
	if v := getenv("HEARTH_TRUSTED_PROXIES"); v != "" {
		c.TrustedProxies = splitList(v)
	}
	str("HEARTH_STORAGE_BUCKET", &c.StorageBucket)
	if v := getenv("HEARTH_EVENTS"); v != "" {
		on, err := parseOnOff(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_EVENTS: %w", err))
		}
		c.Events = on
	}
	if v := getenv("HEARTH_EVENTS_AUDIENCE"); v != "" {
		c.EventsAudiences = splitList(v)
	}
	if v := getenv("HEARTH_EVENTS_SERVICE_ACCOUNTS"); v != "" {
		c.EventsServiceAccounts = splitList(v)
	}
	return c, errors.Join(errs...)
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
		c.TrustedProxies = splitList(v)
		return nil
	})
	fs.StringVar(&c.StorageBucket, "storage-bucket", c.StorageBucket, "Cloud Storage bucket for media (HEARTH_STORAGE_BUCKET)")
	fs.BoolVar(&c.Events, "events", c.Events, "serve /events/* and /schedulers/* to OIDC-verified service accounts; off = 404 (HEARTH_EVENTS=on|off)")
	fs.Func("events-audience", "comma-separated accepted OIDC audiences: the service URL (HEARTH_EVENTS_AUDIENCE)", func(v string) error {
		c.EventsAudiences = splitList(v)
		return nil
	})
	fs.Func("events-service-accounts", "comma-separated service-account emails allowed on /events and /schedulers (HEARTH_EVENTS_SERVICE_ACCOUNTS)", func(v string) error {
		c.EventsServiceAccounts = splitList(v)
		return nil
	})
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q: %v", c.Addr, err)
	}
	if c.FirestoreProject == "" {
		bad("firestore project: required (HEARTH_FIRESTORE_PROJECT or GOOGLE_CLOUD_PROJECT)")
	}
	if c.AuthProject == "" {
		bad("auth project: required (HEARTH_AUTH_PROJECT or GOOGLE_CLOUD_PROJECT)")
	}
	if !c.AppCheck.Valid() {
		bad("app check mode %q: want off, monitor or enforce", c.AppCheck)
	}
	if c.AuthTimeout <= 0 {
		bad("auth timeout %s: must be positive", c.AuthTimeout)
	}
	if c.RequestTimeout <= 0 {
		bad("request timeout %s: must be positive", c.RequestTimeout)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown timeout %s: must not be negative", c.ShutdownTimeout)
	}
	if c.ReadyCacheTTL < 0 {
		bad("ready cache %s: must not be negative", c.ReadyCacheTTL)
	}
	if c.MaxBodyBytes < 1<<10 {
		bad("max body bytes %d: must be at least 1024", c.MaxBodyBytes)
	}
	if c.RateLimit < 0 {
		bad("rate limit %g: must not be negative", c.RateLimit)
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		bad("rate burst %d: must be at least 1", c.RateBurst)
	}
	if c.TokenCacheSize < 0 {
		bad("token cache size %d: must not be negative", c.TokenCacheSize)
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad("trusted proxy %q: not an IP or CIDR", p)
			}
		}
	}
	if c.Events {
		if err := c.eventCallers().Validate(); err != nil {
			bad("events on (HEARTH_EVENTS) needs HEARTH_EVENTS_AUDIENCE and HEARTH_EVENTS_SERVICE_ACCOUNTS: %w", err)
		}
	}
	return errors.Join(errs...)
}

// eventCallers is the OIDC configuration of the event and scheduler routes.
func (c Config) eventCallers() oidc.Config {
	return oidc.Config{Audiences: c.EventsAudiences, ServiceAccounts: c.EventsServiceAccounts}
}

// parseOnOff reads a switch: on/off, true/false, 1/0, yes/no.
func parseOnOff(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "1", "yes":
		return true, nil
	case "off", "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q: want on or off", v)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
