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

// serveUsage is the head of `hearth serve -h`.
const serveUsage = `Usage: hearth serve [flags]

Runs Hearth's backend: the roles of -role (HEARTH_ROLE), comma separated:
  api     the apps' routes: /v1, /admin/v1, /openapi.json
  events  /events/* (Eventarc) and /schedulers/{name} (Cloud Scheduler), to
          OIDC-verified service accounts only; needs -events (HEARTH_EVENTS=on)
  worker  the background loops: the schedulers (push flusher, media expiry,
          presence sweep, typing cleanup) and the media checks' Pub/Sub receiver;
          a process without it runs no loop
  all     all three (the default), for one always-on machine; it serves the
          events routes only with -events
Every role serves /healthz, /readyz and /metrics. On Cloud Run, run one service
per role (hearth deploy plan prints them).

Flags override HEARTH_* environment variables.

Flags:
`

// serveConfig reads the configuration `hearth serve` runs with: the HEARTH_*
// variables (app.ParseEnv), overridden by serve's flags in args; usage heads the
// help. It does not validate. When ok is false the command exits with code: 0 for
// -h, 2 for a value or an argument that does not parse (already reported).
func serveConfig(cmd, usage string, args []string, stderr io.Writer) (cfg app.Config, code int, ok bool) {
	cfg, err := app.ParseEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "hearth %s: %v\n", cmd, err)
		return cfg, 2, false
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, 0, false
		}
		return cfg, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hearth %s: unexpected arguments %q\n", cmd, fs.Args())
		return cfg, 2, false
	}
	return cfg, 0, true
}

// runServe is `hearth serve`: the roles of cfg.Role (the API server, the events
// routes, the background work) until SIGINT or SIGTERM, then a graceful shutdown.
// Configuration comes from HEARTH_* env vars, overridden by flags; the emulators are
// used when their standard env vars are set.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := serveConfig("serve", serveUsage, args, stderr)
	if !ok {
		return code
	}
	logger, err := newLogger(stderr, string(cfg.Log.Format), cfg.Log.Level.String(), cfg.API.FirestoreProject)
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
	// The server of the roles (health and metrics always; /v1 and /admin/v1 with api;
	// with events and HEARTH_EVENTS on, Firestore and storage events at POST /events/*
	// and Cloud Scheduler at POST /schedulers/{name}, from OIDC-verified service
	// accounts only), and with worker the triggers' worker pool and scheduler registry
	// (the push flusher and media expiry included) and the media checks' receiver.
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
