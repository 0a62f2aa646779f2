package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/app"
)

// backendOptions are the settings newBackend does not read from the environment.
type backendOptions struct {
	API         admin.Config
	Logger      *slog.Logger
	LogEachPush bool // a log line per push (dev mode)
}

// newBackend builds Hearth's trusted side in one process through the composition root
// (package app): the API, every trigger and scheduler, push notifications and the
// media checks. `hearth serve` runs it in production; `hearth dev` runs the same thing
// against the local suite. The API config comes from the caller (flags over the
// environment); the other parts' from the environment (HEARTH_* variables, and the
// emulators' standard variables when they are set).
func newBackend(ctx context.Context, opts backendOptions) (*app.App, error) {
	cfg, err := app.LoadConfig(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cfg.API = opts.API
	cfg.Push.LogEachPush = cfg.Push.LogEachPush || opts.LogEachPush
	return app.New(ctx, cfg, app.Options{Logger: opts.Logger})
}
