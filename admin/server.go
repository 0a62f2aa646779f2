// Package admin is Hearth's HTTP API (Gin), served by `hearth serve`: the
// trusted door for mobile clients and administrators (docs/api.md).
// It verifies Firebase ID tokens (and optionally App Check tokens) on every
// call, manages rooms, members and devices, and gives admins users, rooms,
// moderation, an audit log and stats. router.go is the only route table;
// each resource has its own file, each middleware too.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/admin/console"
	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/blocks"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/reports"
	"github.com/hearth-chat/hearth/internal/revocation"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// UserManager is the part of the Admin SDK's Auth client that the user
// routes use; *auth.Client implements it.
type UserManager interface {
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
	GetUserByEmail(ctx context.Context, email string) (*auth.UserRecord, error)
	GetUsers(ctx context.Context, identifiers []auth.UserIdentifier) (*auth.GetUsersResult, error)
	Users(ctx context.Context, nextPageToken string) *auth.UserIterator
	UpdateUser(ctx context.Context, uid string, user *auth.UserToUpdate) (*auth.UserRecord, error)
	SetCustomUserClaims(ctx context.Context, uid string, customClaims map[string]interface{}) error
	RevokeRefreshTokens(ctx context.Context, uid string) error
	DeleteUser(ctx context.Context, uid string) error
}

// AuthClient is everything the API needs from Firebase Auth; *auth.Client
// implements it.
type AuthClient interface {
	TokenVerifier
	UserManager
}

var _ AuthClient = (*auth.Client)(nil)

// Deps are the clients the Server uses. DepsFromEnv builds them for
// production and for the emulators.
type Deps struct {
	// Firestore is an admin client of Config.FirestoreProject. Required.
	Firestore *firestore.Client
	// Auth is the Admin SDK Auth client of Config.AuthProject. Required.
	Auth AuthClient
	// AppCheck verifies App Check tokens; required unless Config.AppCheck
	// is off.
	AppCheck AppCheckVerifier
	// Storage is a Cloud Storage client for the media routes (uploads.go,
	// media.go); nil when Config.StorageBucket is empty.
	Storage *storage.Client
	// Events serves POST /events/* — the CloudEvents endpoint for Eventarc
	// (Firestore triggers) and Pub/Sub push (storage) — when Config.Events is
	// on; nil answers 501 there. Only callers that Callers verifies reach it.
	Events http.Handler
	// Schedulers serves POST /schedulers/{name} (Cloud Scheduler) when
	// Config.Events is on; nil answers 501 there. Callers verifies first.
	Schedulers http.Handler
	// Callers verifies the Google-signed OIDC ID token of every request to
	// /events/* and /schedulers/*; required when Config.Events is on
	// (*oidc.Verifier implements it).
	Callers CallerVerifier
	// Media serves POST /v1/uploads and GET /v1/media/...; *media.Issuer
	// implements it (the composition root, package app, builds it from the
	// media config). When nil the media routes answer 503
	// MEDIA_NOT_CONFIGURED.
	Media MediaService
	// Revocations are the revocation markers; when nil, New builds
	// revocation.Markers on Firestore with the default poll interval and
	// staleness bound. Serve keeps them current (Run) while it serves.
	Revocations Revocations
	// AuthEmulatorHost is the Auth emulator's host:port when Auth is the
	// emulator (FIREBASE_AUTH_EMULATOR_HOST; DepsFromEnv sets it): the
	// console's pages then sign in there instead of at Firebase Auth.
	AuthEmulatorHost string
	// Logger is the parent logger; default slog.Default().
	Logger *slog.Logger
	// Clock tells the time; default clock.System. Rate limits, audit
	// times, bans, redactions and device registrations use it.
	Clock clock.Clock
	// Registry receives the API's metrics and is served at /metrics. When
	// nil, New creates one with the Go runtime and process collectors.
	// `hearth dev` may pass a shared registry so /metrics shows all parts.
	Registry *prometheus.Registry
}

// Server is the API server. Create it with New; it is safe for concurrent
// use.
type Server struct {
	cfg      Config
	fs       *firestore.Client
	auth     AuthClient
	verifier TokenVerifier
	appCheck AppCheckVerifier
	storage  *storage.Client
	events   http.Handler
	sched    http.Handler
	callers  CallerVerifier
	mediaMu  sync.RWMutex
	media    MediaService
	log      *slog.Logger
	access   *slog.Logger
	clock    clock.Clock
	gatherer prometheus.Gatherer
	metrics  *metrics
	limiter  *rateLimiter
	tokens   *tokenCache
	// revocations are the markers every token is checked against.
	revocations Revocations
	console     *console.Handler
	engine      *gin.Engine
	spec        []byte
	draining    atomic.Bool
	ready       readyCache

	// rooms and accounts are the domain services under the handlers.
	rooms    *rooms.Service
	accounts *accounts.Service
	// reports and blocks: safety (reports.go, admin_reports.go, blocks.go).
	reports *reports.Service
	blocks  *blocks.Service
}

// New validates cfg and deps and builds the server and its routes.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("admin config: %w", err)
	}
	var errs []error
	if deps.Firestore == nil {
		errs = append(errs, errors.New("deps: Firestore client required"))
	}
	if deps.Auth == nil {
		errs = append(errs, errors.New("deps: Auth client required"))
	}
	if cfg.Events && deps.Callers == nil {
		errs = append(errs, errors.New("deps: Callers (an OIDC verifier) required with events on"))
	}
	if cfg.AppCheck != AppCheckOff && deps.AppCheck == nil {
		errs = append(errs, fmt.Errorf("deps: App Check verifier required in mode %s", cfg.AppCheck))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = clock.System{}
	}
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		if err := registerRuntimeCollectors(reg); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	log := deps.Logger.With("component", "api")
	s := &Server{
		cfg:      cfg,
		fs:       deps.Firestore,
		auth:     deps.Auth,
		verifier: deps.Auth,
		appCheck: deps.AppCheck,
		storage:  deps.Storage,
		events:   deps.Events,
		sched:    deps.Schedulers,
		callers:  deps.Callers,
		media:    deps.Media,
		log:      log,
		access:   deps.Logger.With("component", "api.access"),
		// Firestore keeps microseconds: times in responses should read
		// back the same from the database.
		clock:    clock.Truncated(deps.Clock, time.Microsecond),
		gatherer: reg,
		metrics:  m,
	}
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst, s.clock)
	}
	if cfg.TokenCacheSize > 0 {
		s.tokens = newTokenCache(cfg.TokenCacheSize, s.clock)
	}
	s.revocations = deps.Revocations
	if s.revocations == nil {
		if s.revocations, err = revocation.New(revocation.Config{}, s.fs, s.clock, deps.Logger); err != nil {
			return nil, err
		}
	}
	if s.tokens != nil {
		// A revoked user's cached tokens are dropped at once (the marker
		// check would refuse them anyway; this frees the entries).
		s.revocations.OnRevoke(s.tokens.forgetUser)
	}
	if s.console, err = console.New(console.Config{
		APIKey: cfg.WebAPIKey, ProjectID: cfg.AuthProject, AuthEmulatorHost: deps.AuthEmulatorHost,
	}); err != nil {
		return nil, err
	}
	if err := s.newDomain(); err != nil {
		return nil, err
	}
	if s.engine, err = s.newEngine(); err != nil {
		return nil, err
	}
	if s.spec, err = s.openAPISpec(); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return s, nil
}

// Handler returns the server's HTTP handler (the Gin engine).
func (s *Server) Handler() http.Handler { return s.engine }

// Run listens on cfg.Addr and serves until ctx ends, then shuts down
// gracefully (see Serve).
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. Then /readyz turns 503 (so a load
// balancer stops sending), new connections are refused, and in-flight
// requests get cfg.ShutdownTimeout in all: they may finish on their own
// until shutdownAnswerTime before its end; then their contexts end with
// context.DeadlineExceeded, so that each answers promptly with a retryable
// error (503 on the API, 500 on /events/* so that Eventarc delivers the event
// again: the triggers' guarded commits leave nothing half-written). Whatever
// still runs when ShutdownTimeout is over has its connection closed. It
// returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	requests := newAbortContext(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return requests },
	}
	// The revocation markers stay current while the server serves.
	rctx, stopMarkers := context.WithCancel(context.WithoutCancel(ctx))
	markersDone := make(chan struct{})
	go func() {
		defer close(markersDone)
		s.revocations.Run(rctx)
	}()
	defer func() {
		stopMarkers()
		<-markersDone
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.InfoContext(ctx, "API listening", "addr", ln.Addr().String(),
		"firestoreProject", s.cfg.FirestoreProject, "authProject", s.cfg.AuthProject, "appCheck", s.cfg.AppCheck,
		"events", s.cfg.Events)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	grace := s.cfg.ShutdownTimeout
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(sctx) }()
	abort := time.NewTimer(max(grace-shutdownAnswerTime, grace/2))
	defer abort.Stop()
	var err error
	select {
	case err = <-shut:
	case <-abort.C:
		s.log.WarnContext(ctx, "shutdown: ending the requests still in flight", "grace", grace)
		requests.abort()
		err = <-shut
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serr)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.InfoContext(ctx, "API stopped")
	return nil
}

// shutdownAnswerTime is the part of ShutdownTimeout left to in-flight
// requests, once their contexts ended, to write their answers.
const shutdownAnswerTime = time.Second

// abortContext is the base context of the server's requests: it carries the
// values of its parent but not its cancellation, and ends with
// context.DeadlineExceeded when abort is called. Requests cut at shutdown
// thus fail as requests that ran out of time do (a retryable 503, a 500 for
// Eventarc), not as requests whose client went away.
type abortContext struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newAbortContext(parent context.Context) *abortContext {
	return &abortContext{Context: parent, done: make(chan struct{})}
}

func (c *abortContext) abort() { c.once.Do(func() { close(c.done) }) }

// Done implements context.Context.
func (c *abortContext) Done() <-chan struct{} { return c.done }

// Err implements context.Context.
func (c *abortContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// newEngine builds the Gin engine with the global middleware and routes.
func (s *Server) newEngine() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode) // no route dump on stdout; atomic in gin
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	// Outermost first: every response, errors and panics included, has a
	// request id, an access log line and a latency observation.
	r.Use(requestIDMiddleware, s.accessLogMiddleware, s.metricsMiddleware, s.recoverMiddleware, s.errorMiddleware)
	r.NoRoute(func(c *gin.Context) { fail(c, errNotFound("no route %s %s", c.Request.Method, c.Request.URL.Path)) })
	r.NoMethod(func(c *gin.Context) {
		fail(c, newError(http.StatusMethodNotAllowed, CodeInvalidArgument, "", "method %s not allowed here", c.Request.Method))
	})
	s.routes(r)
	return r, nil
}

// withTimeout bounds the rest of the request by cfg.RequestTimeout.
func (s *Server) withTimeout(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}
