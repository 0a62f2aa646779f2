package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/internal/envconfig"
)

// devBackend runs the API, the triggers (registered with the Firestore emulator and
// received through the suite's functions port), the push flusher and the media checks,
// exactly as `hearth serve` does, against the local suite.
func devBackend(ctx context.Context, s *devStack, suite *emulator.Suite, log *slog.Logger) error {
	// The suite's demo project, bucket and API port, whatever the environment says. Never
	// serve /events or /schedulers on the API port here, whatever HEARTH_EVENTS says: the
	// Firestore emulator delivers to the functions port (the receiver), storage events
	// come from the local Pub/Sub subscription, and the schedulers run in process. It
	// plays every role (HEARTH_ROLE=all).
	all, err := app.LoadConfig(envconfig.Overlay(os.LookupEnv, map[string]string{
		"HEARTH_ADDR":                 s.cfg.Ports.API.Addr(),
		"HEARTH_FIRESTORE_PROJECT":    s.cfg.ProjectID,
		"HEARTH_AUTH_PROJECT":         s.cfg.ProjectID,
		"HEARTH_MEDIA_PUBSUB_PROJECT": s.cfg.ProjectID,
		"HEARTH_STORAGE_BUCKET":       s.cfg.Bucket,
		"HEARTH_EVENTS":               "off",
		"HEARTH_ROLE":                 "all",
	}))
	if err != nil {
		return err
	}
	cfg := all.API
	b, err := newBackend(ctx, backendOptions{Config: all, Logger: log, LogEachPush: true})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, b.Close)
	if err := b.Pipeline.Register(ctx, s.cfg.Ports.Firestore.Addr(), s.cfg.ProjectID); err != nil {
		return fmt.Errorf("register triggers: %w", err)
	}
	suite.Receiver().Route(s.cfg.ProjectID, b.Pipeline.LocalHandler())
	// Listen now, so the API answers as soon as the table is printed.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("%w: API (hearth serve) cannot listen on %s: %v", emulator.ErrPortInUse, cfg.Addr, err)
	}
	s.apiURL = "http://" + cfg.Addr
	s.runners = append(s.runners, func(ctx context.Context) error { return b.API.Serve(ctx, ln) })
	s.runners = append(s.runners, b.Background)
	return nil
}
