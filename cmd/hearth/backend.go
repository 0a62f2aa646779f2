package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/push"
)

// backend is Hearth's trusted side in one process: the API, the Firestore triggers and
// schedulers, push notifications and the media checks. `hearth serve` runs it in
// production; `hearth dev` runs the same thing against the local suite.
type backend struct {
	API      *admin.Server
	Pipeline *functions.Pipeline
	Push     *push.Notifier
	Media    *media.Service
	// runners are the long-running parts besides the API (which the caller serves).
	runners []func(context.Context) error
	closers []func()
}

// backendOptions are the settings newBackend does not read from the environment.
type backendOptions struct {
	Config      app.Config // API, Functions, Push and Media are read from here
	Logger      *slog.Logger
	LogEachPush bool // a log line per push (dev mode)
}

// newBackend builds every part from the environment (HEARTH_* variables, and the
// emulators' standard variables when they are set).
func newBackend(ctx context.Context, opts backendOptions) (*backend, error) {
	b := &backend{}
	fail := func(err error) (*backend, error) {
		b.close()
		return nil, err
	}
	deps, cleanup, err := admin.DepsFromEnv(ctx, opts.Config.API)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, cleanup)
	log := opts.Logger
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	fcfg := opts.Config.Functions
	b.Pipeline, err = functions.New(fcfg, functions.Deps{Firestore: deps.Firestore, Logger: log})
	if err != nil {
		return fail(fmt.Errorf("functions: %w", err))
	}

	pcfg := opts.Config.Push
	pcfg.LogEachPush = pcfg.LogEachPush || opts.LogEachPush
	sender, err := push.NewMessagingClient(ctx, opts.Config.API.FirestoreProject)
	if err != nil {
		return fail(err)
	}
	b.Push, err = push.New(pcfg, push.Deps{Firestore: deps.Firestore, Sender: sender, Logger: log, Registerer: reg})
	if err != nil {
		return fail(fmt.Errorf("push: %w", err))
	}
	b.Pipeline.Add(b.Push.Triggers()...)

	events := http.NewServeMux()
	if deps.Storage != nil {
		b.Media, err = media.New(opts.Config.Media, media.Deps{Firestore: deps.Firestore, Storage: deps.Storage, Logger: log})
		if err != nil {
			return fail(fmt.Errorf("media: %w", err))
		}
		// A message written after its upload was checked picks up the result here.
		b.Pipeline.Add(functions.Trigger{Name: "onMessageCreatedMedia", EventType: firestoreevent.TypeCreated,
			Document: "rooms/{roomId}/messages/{messageId}", Handle: b.Media.Processor.HandleMessageEvent})
		b.Pipeline.Add(functions.Trigger{Name: "onMessageWrittenMediaRemoval", EventType: firestoreevent.TypeWritten, Document: "rooms/{roomId}/messages/{messageId}", Handle: b.Media.Processor.HandleMessageWritten}) // deleted or redacted: its upload goes
		events.Handle("POST /events/storage", b.Media.Processor.Handler())
	}
	events.Handle("/", b.Pipeline.CloudEventHandler())

	deps.Events = events
	deps.Schedulers = b.Pipeline.SchedulerHandler()
	deps.Logger = log
	deps.Registry = reg
	if b.Media != nil {
		deps.Media = b.Media.Issuer // one signer and config for the API and the checks
		b.runners = append(b.runners, b.Media.Run)
	}
	b.API, err = admin.New(opts.Config.API, deps)
	if err != nil {
		return fail(fmt.Errorf("api: %w", err))
	}
	b.runners = append(b.runners, b.Pipeline.Run, b.Push.Run)
	return b, nil
}

func (b *backend) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}
