package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/emulator"
)

// runDev is `make dev`: the whole local stack on the ports of firebase.json, seeded with
// demo data, until Ctrl-C.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "log at debug level")
	free := fs.Bool("free-ports", false, "use free ports instead of those in firebase.json (tests, or next to another dev stack)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	began := time.Now()
	suite, err := startSuite(ctx, stderr, *free)
	if err != nil {
		fmt.Fprintln(stderr, "hearth dev:", err)
		return 1
	}
	defer suite.Stop()
	// The SDKs find the emulators through the standard variables; this process is the dev
	// stack, so it points itself at its own suite, until the suite stops (run in process,
	// as tests do, later code must not find the stopped suite's ports).
	for _, kv := range suite.Env() {
		k, v, _ := strings.Cut(kv, "=")
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	stack, err := startDevStack(ctx, suite, log)
	if err != nil {
		fmt.Fprintln(stderr, "hearth dev:", err)
		return 1
	}
	defer stack.close()
	printDev(stdout, suite, stack, time.Since(began))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return suite.Wait(gctx) })
	for _, run := range stack.runners {
		g.Go(func() error { return run(gctx) })
	}
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "hearth dev:", err)
		return 1
	}
	fmt.Fprintln(stdout, "\nhearth dev: stopping")
	return 0
}

// devStack is what runs on top of the suite in dev mode.
type devStack struct {
	cfg     emulator.Config
	db      *firestore.Client
	seed    emulator.SeedInfo
	apiURL  string
	runners []func(ctx context.Context) error // long-running parts, run until Ctrl-C
	closers []func()
}

func (s *devStack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func startDevStack(ctx context.Context, suite *emulator.Suite, log *slog.Logger) (*devStack, error) {
	cfg := suite.Config()
	s := &devStack{cfg: cfg}
	db, err := firestore.NewClient(ctx, cfg.ProjectID)
	if err != nil {
		return nil, fmt.Errorf("firestore client: %w", err)
	}
	s.db = db
	s.closers = append(s.closers, func() { db.Close() })
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID})
	if err != nil {
		return nil, fmt.Errorf("firebase app: %w", err)
	}
	authClient, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth client: %w", err)
	}
	for _, add := range devParts() {
		if err := add(ctx, s, suite, log); err != nil {
			s.close()
			return nil, err
		}
	}
	seed, err := emulator.Seed(ctx, db, authClient, time.Now())
	if err != nil {
		s.close()
		return nil, err
	}
	s.seed = seed
	return s, nil
}

// devPart starts one piece of the dev stack (rules, triggers, API, ...): it may add
// runners and closers to s.
type devPart func(ctx context.Context, s *devStack, suite *emulator.Suite, log *slog.Logger) error

// devParts lists, in start order, the pieces that run before the demo data is seeded, so
// that triggers see the seeded writes.
func devParts() []devPart {
	return []devPart{devRules, devBackend}
}

func printDev(w io.Writer, suite *emulator.Suite, s *devStack, took time.Duration) {
	p := suite.Config().Ports
	fmt.Fprintf(w, "\nHearth dev stack ready in %s (project %s; rules from %s, reloaded on change)\n\n",
		took.Round(time.Millisecond), s.cfg.ProjectID, s.cfg.FirestoreRules)
	printEndpoints(w, suite, [3]string{"API (hearth serve)", s.apiURL, "/healthz /readyz /metrics /openapi.json"},
		[3]string{"Web console", s.apiURL + "/console/", "sign in with a demo login that has the admin claim"})
	fmt.Fprintf(w, "\nDemo logins (password %q):\n", emulator.DemoPassword)
	for _, u := range s.seed.Users {
		role := ""
		if u.Admin {
			role = "  (admin claim)"
		}
		fmt.Fprintf(w, "  %-20s uid %s%s\n", u.Email, u.UID, role)
	}
	fmt.Fprintf(w, "\nDemo rooms:\n  %-20s group \"Team\" (alice, bob, carol)\n  %-20s direct (alice, bob)\n", s.seed.GroupRoomID, s.seed.DirectRoomID)
	fmt.Fprintf(w, "\nAn ID token for curl:\n  TOKEN=$(curl -s -XPOST 'http://%s/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=fake' \\\n"+
		"    -H 'content-type: application/json' -d '{\"email\":\"alice@example.com\",\"password\":\"%s\",\"returnSecureToken\":true}' | jq -r .idToken)\n",
		p.Auth.Addr(), emulator.DemoPassword)
	fmt.Fprintln(w, "\nPoint your app or tools at the suite with:")
	printEnv(w, suite)
	fmt.Fprintln(w, "\nPress Ctrl-C to stop everything.")
}
