// Command hearth is Hearth's one binary: the API server, the local emulator suite, the
// developer loop, rules tooling and benchmarks. `hearth help` lists the subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: it returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"dev", "start the emulator suite, functions and API with demo data (make dev)", runDev},
		{"serve", "run the backend: --role=api, events (OIDC-checked /events, /schedulers), worker (background loops), or all", runServe},
		{"emulators", "start the local emulator suite, or run a command against it", runEmulators},
		{"rules", "render or deploy the security rules", runRules},
		{"users", "user administration (grant-admin)", runUsers},
		{"migrate", "one-off data upgrades of a deployment (blockers)", runMigrate},
		{"config", "print the effective configuration, secrets hidden (docs/configuration.md)", runConfig},
		{"deploy", "print the Google Cloud deployment commands (deploy plan)", runDeploy},
		{"version", "print the version and commit this binary was built from", runVersion},
	}
}

// run is main without the process: arguments and output in, exit code out.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if code, done := helpAsked(args, usage, stdout); done {
		return code
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "hearth: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// helpAsked answers a command's arguments that ask for its usage: none (usage on
// stdout, exit 2) or help, -h, --help (usage on stdout, exit 0). done is false for
// anything else.
func helpAsked(args []string, usage func(io.Writer), stdout io.Writer) (code int, done bool) {
	if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
		return 0, false
	}
	usage(stdout)
	if len(args) == 0 {
		return 2, true
	}
	return 0, true
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: hearth <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `hearth <command> -h` for the flags of a command.")
}
