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
	"text/tabwriter"
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

// startSuite starts the checkout's suite, logging its warnings to stderr.
func startSuite(ctx context.Context, stderr io.Writer, freePorts bool) (*emulator.Suite, error) {
	return emulator.StartLocal(ctx, freePorts, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
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
	printEndpoints(stdout, suite)
	fmt.Fprintln(stdout, "\nEnvironment:")
	printEnv(stdout, suite)
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

// printEndpoints prints a table of the suite's services, after the rows given first.
func printEndpoints(w io.Writer, suite *emulator.Suite, first ...[3]string) {
	cfg := suite.Config()
	p := cfg.Ports
	rows := append(first, [][3]string{
		{"Firestore emulator", "http://" + p.Firestore.Addr(), "REST, gRPC and /emulator/v1"},
		{"Auth emulator", "http://" + p.Auth.Addr(), "project " + cfg.ProjectID},
		{"Storage (V4 signed URLs)", "http://" + p.Storage.Addr(), "bucket " + cfg.Bucket},
		{"Functions (triggers)", "http://" + p.Functions.Addr(), "receives the emulator's events"},
		{"FCM (fake)", "http://" + p.FCM.Addr(), "every push: GET /v1/sent"},
		{"Pub/Sub (storage events)", p.PubSub.Addr(), "gRPC"},
	}...)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVICE\tADDRESS\tNOTES")
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r[0], r[1], r[2])
	}
	tw.Flush()
}

// printEnv prints the variables that point SDKs and tools at the suite.
func printEnv(w io.Writer, suite *emulator.Suite) {
	for _, kv := range suite.Env() {
		fmt.Fprintf(w, "  export %s\n", kv)
	}
}
