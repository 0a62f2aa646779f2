// Package app is Hearth's composition root: from one Config it builds every part of
// the backend — the Firestore, Auth and Storage clients, the revocation markers, the
// API (admin), push notifications, the media checks, and the functions pipeline with
// every trigger and the scheduler registry — and wires them together. `hearth serve`,
// `hearth dev` and the Cloud Functions entry (PipelineFromEnv) all build through New,
// so a trigger, a scheduler or a part cannot exist in one and not another.
//
// The parts are kept apart so that a process can serve one role of them: the API
// (API.Handler: /v1, /admin/v1, health, metrics), the events (Events and Schedulers:
// /events/*, /schedulers/*), or the background work (Background).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/push"
	"github.com/hearth-chat/hearth/internal/revocation"
)

// Names of the schedulers New adds to the functions pipeline's registry (beside its
// own presence-sweeper and typing-cleanup).
const (
	SchedulerPushFlusher = "push-flusher"
	SchedulerMediaExpiry = "media-expiry"
)

// Options are the settings of New that are not configuration.
type Options struct {
	// Logger is the parent logger of every part; default slog.Default().
	Logger *slog.Logger
	// Clock drives every part; default clock.System.
	Clock clock.Clock
	// Registry receives every part's metrics (served at the API's /metrics); default a
	// new one with the Go runtime and process collectors.
	Registry *prometheus.Registry
	// NoAPI builds no API and no Auth client: the pipeline, push and media only (the
	// Cloud Functions entry, which serves no HTTP API).
	NoAPI bool
}

// App is the built backend. Its fields are the parts, for callers that serve some of
// them (a role) or register them elsewhere (the emulator's trigger registry).
type App struct {
	Config    Config
	Firestore *firestore.Client
	// Storage is nil when Config.API.StorageBucket is empty (then Media is nil too).
	Storage *storage.Client
	// API is nil with Options.NoAPI.
	API      *admin.Server
	Pipeline *functions.Pipeline
	Push     *push.Notifier
	// Media is nil without a storage bucket.
	Media *media.Service
	// Events serves POST /events/* (Eventarc's Firestore events, by trigger name, and
	// the storage finalize events at /events/storage); Schedulers serves POST
	// /schedulers/{name}. The API serves both behind its OIDC check when
	// Config.API.Events is on and Config.Role has RoleEvents.
	Events     http.Handler
	Schedulers http.Handler
	Registry   *prometheus.Registry

	log     *slog.Logger
	closers []func()
}

// New builds every part from cfg. ctx must live as long as the App: the clients keep
// it for refreshing credentials and keys. Close releases what New opened.
func New(ctx context.Context, cfg Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	a := &App{Config: cfg, log: opts.Logger, Registry: opts.Registry}
	built := false
	defer func() {
		if !built {
			a.Close() // what was opened before the failure
		}
	}()
	var err error
	if a.Registry == nil {
		a.Registry = prometheus.NewRegistry()
		if err := a.Registry.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
		if err := a.Registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, err
		}
	}
	if err := cfg.validateRole(); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// The API server is this process's one router: it serves the apps' routes with the
	// api role, and the events routes with the events role (and HEARTH_EVENTS on).
	apiCfg := cfg.API
	apiCfg.NoClientRoutes = !cfg.Role.Has(RoleAPI)
	apiCfg.Events = cfg.API.Events && cfg.Role.Has(RoleEvents)
	project := cfg.API.FirestoreProject
	if project == "" {
		return nil, errors.New("app: Firestore project required (HEARTH_FIRESTORE_PROJECT or GOOGLE_CLOUD_PROJECT)")
	}

	// The clients. The API's (Auth, App Check, the OIDC verifier of event callers)
	// come with its Firestore and Storage clients from admin.DepsFromEnv.
	var apiDeps admin.Deps
	if opts.NoAPI {
		if a.Firestore, err = firestore.NewClient(ctx, project); err != nil {
			return nil, fmt.Errorf("firestore client %s: %w", project, err)
		}
		a.closers = append(a.closers, func() { a.Firestore.Close() })
		if cfg.API.StorageBucket != "" {
			if a.Storage, err = storage.NewClient(ctx); err != nil {
				return nil, fmt.Errorf("storage client: %w", err)
			}
			a.closers = append(a.closers, func() { a.Storage.Close() })
		}
	} else {
		deps, cleanup, err := admin.DepsFromEnv(ctx, apiCfg)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, cleanup)
		apiDeps, a.Firestore, a.Storage = deps, deps.Firestore, deps.Storage
	}

	// Push.
	sender, err := push.NewMessagingClient(ctx, project)
	if err != nil {
		return nil, err
	}
	if a.Push, err = push.New(cfg.Push, push.Deps{Firestore: a.Firestore, Sender: sender, Clock: opts.Clock,
		Logger: opts.Logger, Registerer: a.Registry}); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	fdeps := functions.Deps{
		Firestore: a.Firestore, Clock: opts.Clock, Logger: opts.Logger,
		Notifier:   a.Push,
		Schedulers: []functions.Scheduler{a.pushFlusher()},
		Registerer: a.Registry,
	}

	// Media, when there is a bucket.
	events := http.NewServeMux()
	if a.Storage != nil {
		mcfg := cfg.Media
		if mcfg.Bucket == "" {
			mcfg.Bucket = cfg.API.StorageBucket
		}
		if a.Media, err = media.New(mcfg, media.Deps{Firestore: a.Firestore, Storage: a.Storage, Clock: opts.Clock,
			Logger: opts.Logger, Registerer: a.Registry}); err != nil {
			return nil, fmt.Errorf("media: %w", err)
		}
		fdeps.Media = a.Media.Processor
		if a.Media.ExpireInterval() > 0 {
			fdeps.Schedulers = append(fdeps.Schedulers, a.mediaExpiry())
		}
		// Storage finalize events: their own door, beside the Firestore triggers.
		events.Handle("POST "+StorageEventsPath, a.Media.Processor.Handler())
	}

	// The pipeline: every trigger and the scheduler registry.
	if a.Pipeline, err = functions.New(cfg.Functions, fdeps); err != nil {
		return nil, fmt.Errorf("functions: %w", err)
	}
	events.Handle("/", a.Pipeline.CloudEventHandler())
	a.Events, a.Schedulers = events, a.Pipeline.SchedulerHandler()
	if opts.NoAPI {
		built = true
		return a, nil
	}

	// The API.
	// The API's clock as it reads it: Firestore keeps microseconds.
	marks, err := revocation.New(revocation.Config{}, a.Firestore, clock.Truncated(opts.Clock, time.Microsecond), opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("revocation: %w", err)
	}
	apiDeps.Events, apiDeps.Schedulers = a.Events, a.Schedulers
	apiDeps.Revocations = marks
	apiDeps.Logger = opts.Logger
	apiDeps.Clock = opts.Clock
	apiDeps.Registry = a.Registry
	if a.Media != nil {
		apiDeps.Media = a.Media.Issuer // one signer and config for the API and the checks
	}
	if a.API, err = admin.New(apiCfg, apiDeps); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	built = true
	return a, nil
}

// pushFlusher is the push flusher as a job of the scheduler registry: it sends the
// digests that are due. Every queue entry is claimed by a guarded write, so it needs
// no lease.
func (a *App) pushFlusher() functions.Scheduler {
	return functions.Scheduler{
		Name:  SchedulerPushFlusher,
		Every: a.Push.Config().PollInterval,
		Run: func(ctx context.Context) (functions.SweepResult, error) {
			n, more, err := a.Push.FlushDue(ctx)
			return functions.SweepResult{Changed: n, More: more}, err
		},
	}
}

// mediaExpiry is the media expiry sweep as a job of the scheduler registry: uploads
// whose URL expired unused are settled. Each record's write is guarded, so it needs no
// lease.
func (a *App) mediaExpiry() functions.Scheduler {
	return functions.Scheduler{
		Name:  SchedulerMediaExpiry,
		Every: a.Media.ExpireInterval(),
		Run: func(ctx context.Context) (functions.SweepResult, error) {
			n, err := a.Media.ExpireUploads(ctx)
			return functions.SweepResult{Changed: n}, err
		},
	}
}

// Background runs the background work until ctx ends: the pipeline's local worker pool
// and scheduler registry (the push flusher and the media expiry included), and the
// media checks' Pub/Sub receiver. The first part to fail stops the others.
func (a *App) Background(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Pipeline.Run(ctx) })
	if a.Media != nil {
		g.Go(func() error { return a.Media.Receive(ctx) })
	}
	return g.Wait()
}

// Run serves this process's roles until ctx ends, as `hearth serve` does: the API
// server on Config.API.Addr (health and metrics always; the apps' routes with the api
// role, the events routes with the events role), and the background work with the
// worker role only — a process without it runs no loop, so a Cloud Run service that
// has CPU only during requests relies on none. The first part to fail stops the others.
func (a *App) Run(ctx context.Context) error {
	if a.API == nil {
		return errors.New("app: Run needs the API (built without Options.NoAPI)")
	}
	worker := a.Config.Role.Has(RoleWorker)
	a.log.Info("hearth roles", "role", a.Config.Role.String(), "api", a.Config.Role.Has(RoleAPI),
		"events", a.Config.API.Events && a.Config.Role.Has(RoleEvents), "background", worker)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.API.Run(ctx) })
	if worker {
		g.Go(func() error { return a.Background(ctx) })
	}
	return g.Wait()
}

// Close releases the clients New opened, last opened first.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// PipelineFromEnv builds the pipeline for the Cloud Functions entry (a
// cloudfunctions.Builder): the App of LoadConfig(os.LookupEnv) without the API, logging
// JSON on stdout (Cloud Logging's format). Push and media are wired into its triggers
// and schedulers exactly as under `hearth serve`.
func PipelineFromEnv(ctx context.Context) (*functions.Pipeline, error) {
	cfg, err := LoadConfig(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	// The clients may keep the context for refreshing credentials: not the event's.
	a, err := New(context.WithoutCancel(ctx), cfg, Options{Logger: slog.New(slog.NewJSONHandler(os.Stdout, nil)), NoAPI: true})
	if err != nil {
		return nil, err
	}
	return a.Pipeline, nil
}
