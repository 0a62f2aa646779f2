// Package cloudfunctions is the Cloud Functions (2nd gen) door of the functions
// pipeline: it registers each trigger with the Functions Framework for Go
// (functions.CloudEvent, entry point = trigger name), turns the framework's CloudEvent
// into a firestoreevent.Event (firestoreevent.Decode of the protobuf
// DocumentEventData) and runs the trigger synchronously. An error returned asks Cloud
// Functions to retry the event (when deployed with --retry); Permanent errors are logged
// and acknowledged.
//
// The Go buildpack builds the package at the root of the uploaded source, so a
// deployment needs a root package that calls Register from an init function; the
// registration itself does no I/O, the pipeline is built on the first event.
// docs/deploy.md has the file and the gcloud commands.
package cloudfunctions

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"cloud.google.com/go/firestore"
	ff "github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// Builder builds the pipeline the registered functions run. It is called on the first
// event (with that event's context) and again after a failure.
type Builder func(ctx context.Context) (*functions.Pipeline, error)

// SchedulersFunction is the name of the HTTP function Register adds for the schedulers:
// Cloud Scheduler posts to its URL + /schedulers/{name} (see Pipeline.SchedulerHandler).
const SchedulersFunction = "schedulers"

// Register registers, with the Functions Framework's default registry, one CloudEvent
// function per trigger name (each runs that trigger of the pipeline build returns) and
// the HTTP function SchedulersFunction. Call it once, from an init function.
func Register(names []string, build Builder) {
	lp := &lazy{build: build}
	for _, name := range names {
		ff.CloudEvent(name, func(ctx context.Context, e event.Event) error {
			p, err := lp.get(ctx)
			if err != nil {
				return err
			}
			return Handle(ctx, p, name, e)
		})
	}
	ff.HTTP(SchedulersFunction, func(w http.ResponseWriter, r *http.Request) {
		p, err := lp.get(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		p.SchedulerHandler().ServeHTTP(w, r)
	})
}

// lazy builds the pipeline once, on first use; a failed build is retried next time.
type lazy struct {
	build Builder
	mu    sync.Mutex
	p     *functions.Pipeline
}

func (l *lazy) get(ctx context.Context) (*functions.Pipeline, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		return l.p, nil
	}
	p, err := l.build(ctx)
	if err != nil {
		return nil, fmt.Errorf("cloudfunctions: build pipeline: %w", err)
	}
	l.p = p
	return p, nil
}

// Handle decodes the Functions Framework event e and runs trigger name of p on it. A
// Permanent error is logged and reported as success (no retry); an undecodable event is
// an error.
func Handle(ctx context.Context, p *functions.Pipeline, name string, e event.Event) error {
	ev, err := Decode(e)
	if err != nil {
		return err
	}
	err = p.Handle(ctx, name, ev)
	if functions.IsPermanent(err) {
		slog.ErrorContext(ctx, "event failed, not retried", "trigger", name, "document", ev.Document, "event", ev.ID, "err", err)
		return nil
	}
	return err
}

// Decode turns a CloudEvent of the Functions Framework (CloudEvents SDK) into a
// firestoreevent.Event: attributes and the Firestore extensions (location, project,
// database, namespace, document, authtype, authid) into Meta, and the data (protobuf
// DocumentEventData, or its JSON form) through firestoreevent.Decode.
func Decode(e event.Event) (*firestoreevent.Event, error) {
	ext := func(name string) string {
		v, ok := e.Extensions()[name]
		if !ok || v == nil {
			return ""
		}
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	meta := firestoreevent.Meta{
		ID:              e.ID(),
		Source:          e.Source(),
		SpecVersion:     e.SpecVersion(),
		Type:            e.Type(),
		Subject:         e.Subject(),
		Time:            e.Time(),
		DataContentType: e.DataContentType(),
		DataSchema:      e.DataSchema(),
		Location:        ext("location"),
		Project:         ext("project"),
		Database:        ext("database"),
		Namespace:       ext("namespace"),
		Document:        ext("document"),
		AuthType:        ext("authtype"),
		AuthID:          ext("authid"),
	}
	ev, err := firestoreevent.Decode(meta, e.Data())
	if err != nil {
		return nil, fmt.Errorf("cloudfunctions: %w", err)
	}
	return ev, nil
}

// PipelineFromEnv is a Builder for Cloud Functions: an admin Firestore client for
// HEARTH_FIRESTORE_PROJECT (default GOOGLE_CLOUD_PROJECT, which Cloud Functions sets),
// the functions settings of app.LoadConfig, the system clock and JSON logs on stdout
// (Cloud Logging's format).
func PipelineFromEnv(ctx context.Context) (*functions.Pipeline, error) {
	all, err := app.LoadConfig(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	project, cfg := all.API.FirestoreProject, all.Functions
	// The client may keep the context for refreshing credentials: not the event's.
	db, err := firestore.NewClient(context.WithoutCancel(ctx), project)
	if err != nil {
		return nil, fmt.Errorf("firestore client for %s: %w", project, err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	return functions.New(cfg, functions.Deps{Firestore: db, Clock: clock.System{}, Logger: log})
}
