package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hearth-chat/hearth/emulator"
)

func runEmulators(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage:\n  hearth emulators start             run the suite until Ctrl-C\n  hearth emulators exec -- CMD ...   start the suite, run CMD with its env, stop")
		return 2
	}
	switch args[0] {
	case "start":
		return emulatorsStart(ctx, args[1:], stdout, stderr)
	case "exec":
		return emulatorsExec(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "hearth emulators: unknown subcommand %q (start, exec)\n", args[0])
	return 2
}

// startSuite loads firebase.json from the checkout and starts the suite.
func startSuite(ctx context.Context, stderr io.Writer, freePorts bool) (*emulator.Suite, error) {
	root, err := emulator.FindRoot(".")
	if err != nil {
		return nil, err
	}
	cfg, err := emulator.LoadConfig(root)
	if err != nil {
		return nil, err
	}
	opts := emulator.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if freePorts {
		cfg.Ports = emulator.FreePorts(cfg.Ports)
		dir, err := os.MkdirTemp("", "hearth-suite-")
		if err != nil {
			return nil, err
		}
		opts.StateDir = dir
		opts.RemoveStateDir = true
	}
	return emulator.Start(ctx, cfg, opts)
}

func emulatorsStart(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulators start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	began := time.Now()
	suite, err := startSuite(ctx, stderr, false)
	if err != nil {
		fmt.Fprintln(stderr, "hearth emulators:", err)
		return 1
	}
	defer suite.Stop()
	fmt.Fprintf(stdout, "emulator suite ready in %s\n\n", time.Since(began).Round(time.Millisecond))
	printSuite(stdout, suite)
	fmt.Fprintln(stdout, "\nPress Ctrl-C to stop.")
	if err := suite.Wait(ctx); err != nil {
		fmt.Fprintln(stderr, "hearth emulators:", err)
		return 1
	}
	return 0
}

// emulatorsExec starts the suite, runs a command with the suite's env, and stops the suite.
// The command's exit code becomes hearth's.
func emulatorsExec(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulators exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	free := fs.Bool("free-ports", false, "use free ports instead of those in firebase.json (for CI next to a running `make dev`)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		fmt.Fprintln(stderr, "hearth emulators exec: no command given (hearth emulators exec -- go test ./...)")
		return 2
	}
	began := time.Now()
	suite, err := startSuite(ctx, stderr, *free)
	if err != nil {
		fmt.Fprintln(stderr, "hearth emulators:", err)
		return 1
	}
	defer suite.Stop()
	fmt.Fprintf(stderr, "hearth: emulator suite ready in %s; running %s\n", time.Since(began).Round(time.Millisecond), strings.Join(cmdArgs, " "))
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), suite.Env()...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "hearth emulators exec:", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(os.Interrupt)
		err = <-done
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(stderr, "hearth emulators exec:", err)
		return 1
	}
	return 0
}

// printSuite prints the endpoints table and the env vars.
func printSuite(w io.Writer, s *emulator.Suite) {
	p := s.Config().Ports
	fmt.Fprintf(w, "  %-22s %s\n", "Firestore", "http://"+p.Firestore.Addr())
	fmt.Fprintf(w, "  %-22s %s\n", "Auth", "http://"+p.Auth.Addr())
	fmt.Fprintf(w, "  %-22s %s\n", "Storage", "http://"+p.Storage.Addr())
	fmt.Fprintf(w, "  %-22s %s\n", "Functions (triggers)", "http://"+p.Functions.Addr())
	fmt.Fprintf(w, "  %-22s %s  (sent: /v1/sent)\n", "FCM (fake)", "http://"+p.FCM.Addr())
	fmt.Fprintf(w, "  %-22s %s\n", "Pub/Sub (storage)", p.PubSub.Addr())
	fmt.Fprintln(w, "\nEnvironment:")
	for _, kv := range s.Env() {
		fmt.Fprintf(w, "  export %s\n", kv)
	}
}
