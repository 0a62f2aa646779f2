package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hearth-chat/hearth/app"
)

// runConfig is `hearth config`: the effective configuration of `hearth serve` (the
// HEARTH_* variables, then the same flags) as VAR=value lines, secrets hidden. It exits
// 2 when a variable does not parse and 1 when the configuration is invalid (after
// printing it, with every reason).
func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := app.ParseEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(stderr, "hearth config:", err)
		return 2
	}
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hearth config [serve flags]\n\nPrints the configuration `hearth serve` would run with (docs/configuration.md);\nsecret values are never shown.\n\nFlags:")
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
		fmt.Fprintf(stderr, "hearth config: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := cfg.Write(stdout); err != nil {
		fmt.Fprintln(stderr, "hearth config:", err)
		return 1
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "hearth config: invalid:", err)
		return 1
	}
	return 0
}
