package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/admin"
)

// runServe is `hearth serve`: the API server (admin package) until SIGINT or
// SIGTERM, then a graceful shutdown. Configuration comes from HEARTH_* env
// vars, overridden by flags; the emulators are used when their standard env
// vars are set.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := admin.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hearth serve [flags]\n\nRuns the Hearth API. Flags override HEARTH_* environment variables.\n\nFlags:")
		fs.PrintDefaults()
	}
	cfg.RegisterFlags(fs)
	logFormat := fs.String("log-format", envOr("HEARTH_LOG_FORMAT", "json"), "log format: json or text (HEARTH_LOG_FORMAT)")
	logLevel := fs.String("log-level", envOr("HEARTH_LOG_LEVEL", "info"), "log level: debug, info, warn, error (HEARTH_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hearth serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	if err := refuseEmulatorsOutsideDemo(os.Environ(), cfg.FirestoreProject, cfg.AuthProject); err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	b, err := newBackend(ctx, backendOptions{API: cfg, Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 1
	}
	defer b.close()
	// The API, and beside it the triggers' worker pool and schedulers, the push flusher
	// and the media checks. With events on (HEARTH_EVENTS), Firestore and storage events
	// arrive at POST /events/* and Cloud Scheduler at POST /schedulers/{name}, from
	// OIDC-verified service accounts only. The first part to fail stops the others.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.API.Run(gctx) })
	for _, run := range b.runners {
		g.Go(func() error { return run(gctx) })
	}
	if err := g.Wait(); err != nil {
		logger.Error("hearth serve stopped", "error", err)
		return 1
	}
	return 0
}

// demoPrefix starts the project ids the emulators treat as demo projects: no real
// project can have one.
const demoPrefix = "demo-"

// refuseEmulatorsOutsideDemo fails when an emulator variable (any *_EMULATOR_HOST in
// environ, e.g. FIREBASE_AUTH_EMULATOR_HOST) is set while a project is not a demo-*
// project. With FIREBASE_AUTH_EMULATOR_HOST the Admin SDK accepts unsigned ID tokens;
// with the others data would go to, or come from, an emulator instead of the project
// named: a misconfiguration that must not start.
func refuseEmulatorsOutsideDemo(environ []string, projects ...string) error {
	var set []string
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(name, "_EMULATOR_HOST") && value != "" {
			set = append(set, name)
		}
	}
	if len(set) == 0 {
		return nil
	}
	slices.Sort(set)
	for _, p := range projects {
		if !strings.HasPrefix(p, demoPrefix) {
			return fmt.Errorf("%s is set but project %q does not start with %q: emulators are for demo projects only "+
				"(the Admin SDK accepts unsigned tokens under FIREBASE_AUTH_EMULATOR_HOST); unset %s or use a %s* project",
				strings.Join(set, ", "), p, demoPrefix, strings.Join(set, ", "), demoPrefix)
		}
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
