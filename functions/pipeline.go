package functions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/internal/blocks"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/coalesce"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/reactions"
	"github.com/hearth-chat/hearth/internal/roster"
	"github.com/hearth-chat/hearth/internal/threads"
)

// Deps are the Pipeline's collaborators.
type Deps struct {
	// Firestore is an admin client for the project whose documents the triggers watch.
	// Required.
	Firestore *firestore.Client
	// Clock drives the schedulers, leases, mute expiry, updatedAt stamps and the fan-out
	// windows (Config.FanoutWindow). Default clock.System.
	Clock clock.Clock
	// Logger defaults to discarding; the pipeline logs with component=functions.
	Logger *slog.Logger
	// Notifier is the push side of the message and membership triggers (a
	// *push.Notifier); nil sends no push notifications.
	Notifier Notifier
	// Media is the media side of the message trigger (a *media.Processor); nil when
	// media storage is not configured.
	Media MediaChecks
	// Schedulers are jobs of other packages for the scheduler registry (the push
	// flusher, the media expiry sweep), run and served like the built-in ones.
	Schedulers []Scheduler
	// Registerer receives the pipeline's metrics (hearth_functions_*, hearth_scheduler_*;
	// see docs/observability.md); nil keeps them unexported. Pipelines sharing one
	// registry share the collectors.
	Registerer prometheus.Registerer
}

// Pipeline is Hearth's event pipeline: the Firestore triggers (its own and those Added by
// other packages), the three doors events come in by (LocalHandler for the emulator,
// CloudEventHandler for Cloud Run + Eventarc, and package cloudfunctions for Cloud
// Functions 2nd gen), the local door's worker pool, and the schedulers.
type Pipeline struct {
	cfg   Config
	db    *firestore.Client
	clock clock.Clock
	log   *slog.Logger

	inbox    *inbox.Store
	roster   *roster.Mirror
	reacts   *reactions.Store
	threads  *threads.Store
	blockers *blocks.Index
	notifier Notifier    // nil: no push
	media    MediaChecks // nil: no media
	scheds   []Scheduler // the scheduler registry, built-in first

	// Fan-outs of repeatable client writes, at most one per Config.FanoutWindow per key.
	edits     *coalesce.Group[map[string]string, struct{}] // per room: edited message id -> sender
	profiles  *coalesce.Group[profileChange, struct{}]     // per user
	presences *coalesce.Group[struct{}, struct{}]          // per user
	// Recounts of a large room's "read by N", at most one per Config.LargeRoomWindow per room.
	readCounts *coalesce.Group[struct{}, struct{}]

	mu       sync.RWMutex
	triggers []Trigger
	byName   map[string]int

	pool    *pool
	metrics *metrics
}

// New returns a Pipeline with Hearth's built-in triggers (see BuiltinTriggerNames). It
// validates cfg and does no I/O.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if deps.Firestore == nil {
		return nil, errors.New("functions: Deps.Firestore is required")
	}
	if deps.Clock == nil {
		deps.Clock = clock.System{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	log := deps.Logger.With("component", "functions")
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("functions: metrics: %w", err)
	}
	p := &Pipeline{
		cfg:      cfg,
		db:       deps.Firestore,
		clock:    deps.Clock,
		log:      log,
		inbox:    inbox.New(deps.Firestore, deps.Clock, inbox.LargeRooms(cfg.LargeRoomMembers, cfg.LargeRoomWindow)),
		roster:   roster.New(deps.Firestore, deps.Clock),
		notifier: deps.Notifier,
		media:    deps.Media,
		byName:   map[string]int{},
		metrics:  m,

		edits:      coalesce.NewWindowed[map[string]string, struct{}](inbox.MergeBatches, cfg.FanoutWindow, deps.Clock),
		profiles:   coalesce.NewWindowed[profileChange, struct{}](profileChange.merge, cfg.FanoutWindow, deps.Clock),
		presences:  coalesce.NewWindowed[struct{}, struct{}](func(struct{}, struct{}) struct{} { return struct{}{} }, cfg.FanoutWindow, deps.Clock),
		readCounts: coalesce.NewWindowed[struct{}, struct{}](func(struct{}, struct{}) struct{} { return struct{}{} }, cfg.LargeRoomWindow, deps.Clock),
	}
	if p.reacts, err = reactions.New(deps.Firestore, deps.Clock); err != nil {
		return nil, err
	}
	if p.threads, err = threads.New(deps.Firestore, deps.Clock); err != nil {
		return nil, err
	}
	if p.blockers, err = blocks.NewIndex(deps.Firestore, deps.Clock, cfg.BlockersCap); err != nil {
		return nil, err
	}
	p.pool = newPool(cfg, log)
	p.Add(p.builtinTriggers()...)
	if err := p.addSchedulers(append(p.builtinSchedulers(), deps.Schedulers...)...); err != nil {
		return nil, err
	}
	return p, nil
}

// Config returns the configuration in effect, defaults filled in.
func (p *Pipeline) Config() Config { return p.cfg }

// Add adds triggers (for example the push notifier's) to the pipeline: they are
// registered, served by every door and run by the worker pool like the built-in ones.
// Add panics on a trigger without name, handler, document or a Firestore event type,
// and on a name already taken: these are programming errors, found at start-up.
func (p *Pipeline) Add(triggers ...Trigger) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range triggers {
		switch {
		case t.Name == "" || t.Handle == nil || t.Document == "":
			panic(fmt.Sprintf("functions: Add: trigger %q needs Name, Document and Handle", t.Name))
		case firestoreevent.KindOf(t.EventType) == firestoreevent.KindUnknown:
			panic(fmt.Sprintf("functions: Add: trigger %s: event type %q is not a Firestore document event", t.Name, t.EventType))
		}
		if _, dup := p.byName[t.Name]; dup {
			panic(fmt.Sprintf("functions: Add: trigger name %s is taken", t.Name))
		}
		p.byName[t.Name] = len(p.triggers)
		p.triggers = append(p.triggers, t)
		p.metrics.trigger(t.Name)
	}
}

// Triggers returns every trigger of the pipeline, built-in first, in the order added.
func (p *Pipeline) Triggers() []Trigger {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]Trigger(nil), p.triggers...)
}

// trigger returns the trigger called name.
func (p *Pipeline) trigger(name string) (Trigger, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.byName[name]
	if !ok {
		return Trigger{}, false
	}
	return p.triggers[i], true
}

// Register registers every trigger with the Firestore emulator at emulatorHost
// (host:port) for project, as a v2 (Eventarc) trigger whose id is the trigger's Name.
// The emulator then posts each event to its --functions_emulator address at
// /functions/projects/{project}/triggers/{name}: route those to LocalHandler.
// Registering again replaces a trigger (the emulator cannot unregister). Add other
// packages' triggers before calling it.
func (p *Pipeline) Register(ctx context.Context, emulatorHost, project string) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	var errs []error
	for _, t := range p.Triggers() {
		err := firestoreevent.RegisterTrigger(ctx, hc, emulatorHost, project, firestoreevent.Trigger{
			ID:        t.Name,
			EventType: t.EventType,
			Document:  t.Document,
			MatchType: firestoreevent.MatchPathPattern,
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("functions: register triggers for %s: %w", project, err)
	}
	return nil
}

// Permanent marks an error a retry cannot fix (a document that cannot be decoded, say):
// the doors log it and acknowledge the event instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// ErrNoTrigger is returned (wrapped) by Handle for a name no trigger has.
var ErrNoTrigger = errors.New("functions: no such trigger")

// Handle runs the trigger called name on ev synchronously, as the doors do: an empty
// event, or a change the trigger's event type does not take (a created trigger given an
// update), is ignored; a panic becomes an error. For doors other than the three built in
// (see package cloudfunctions).
func (p *Pipeline) Handle(ctx context.Context, name string, ev *firestoreevent.Event) error {
	t, ok := p.trigger(name)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoTrigger, name)
	}
	if !accepts(t, ev) {
		return nil
	}
	err := p.run(ctx, t, ev)
	p.countOutcome(t.Name, err)
	return err
}

// countOutcome counts a run's error for a door that answers each delivery once (Handle,
// the CloudEvents door): a Permanent one abandons the event, any other asks for a
// redelivery. The local door, which retries itself, counts its own.
func (p *Pipeline) countOutcome(trigger string, err error) {
	switch {
	case err == nil:
	case IsPermanent(err):
		p.metrics.abandoned.WithLabelValues(trigger, abandonPermanent).Inc()
	default:
		p.metrics.retries.WithLabelValues(trigger).Inc()
	}
}

// run runs trigger t on ev: empty events (the emulator's deletes of missing documents)
// are ignored, and a panic becomes an error so one bad event cannot stop the process.
// Every run is measured: the event's age when it starts, and its duration by outcome.
func (p *Pipeline) run(ctx context.Context, t Trigger, ev *firestoreevent.Event) (err error) {
	if ev.Empty() {
		return nil
	}
	start := p.clock.Now()
	p.metrics.observeEvent(t.Name, ev.Time, start)
	outcome := outcomeOK
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("trigger %s panicked: %v", t.Name, r)
			outcome = outcomePanic
		} else if err != nil {
			outcome = outcomeError
			if IsPermanent(err) {
				outcome = outcomePermanent
			}
		}
		p.metrics.duration.WithLabelValues(t.Name, outcome).Observe(max(p.clock.Now().Sub(start), 0).Seconds())
	}()
	return t.Handle(ctx, ev)
}

// defaultInstanceID names this process as a lease holder: host, pid and a random
// suffix, so two pipelines in one process are different holders.
func defaultInstanceID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
