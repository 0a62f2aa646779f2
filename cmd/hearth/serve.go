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

	"github.com/hearth-chat/hearth/app"
)

// runServe is `hearth serve`: the API server (admin package) until SIGINT or
// SIGTERM, then a graceful shutdown. Configuration comes from HEARTH_* env
// vars, overridden by flags; the emulators are used when their standard env
// vars are set.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := app.ParseEnv(os.LookupEnv)
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
	logger, err := newLogger(stderr, string(cfg.Log.Format), cfg.Log.Level.String())
	if err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	if err := refuseEmulatorsOutsideDemo(os.Environ(), cfg.API.FirestoreProject, cfg.API.AuthProject); err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 2
	}
	b, err := newBackend(ctx, backendOptions{Config: cfg, Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "hearth serve:", err)
		return 1
	}
	defer b.Close()
	// The API, and beside it the triggers' worker pool and scheduler registry (the push
	// flusher and media expiry included) and the media checks' receiver. With events on
	// (HEARTH_EVENTS), Firestore and storage events arrive at POST /events/* and Cloud
	// Scheduler at POST /schedulers/{name}, from OIDC-verified service accounts only.
	// The first part to fail stops the others.
	if err := b.Run(ctx); err != nil {
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
