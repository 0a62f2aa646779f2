package main

import (
	"context"
	"log/slog"

	"github.com/hearth-chat/hearth/app"
)

// backendOptions are the settings newBackend takes from its caller.
type backendOptions struct {
	Config      app.Config // every component's settings (app.LoadConfig, flags over env)
	Logger      *slog.Logger
	LogEachPush bool // a log line per push (dev mode)
}

// newBackend builds Hearth's trusted side in one process through the composition root
// (package app): the API, every trigger and scheduler, push notifications and the
// media checks. `hearth serve` runs it in production; `hearth dev` runs the same thing
// against the local suite.
func newBackend(ctx context.Context, opts backendOptions) (*app.App, error) {
	cfg := opts.Config
	cfg.Push.LogEachPush = cfg.Push.LogEachPush || opts.LogEachPush
	return app.New(ctx, cfg, app.Options{Logger: opts.Logger})
}
