package main

import (
	"context"
	"fmt"
	"io"
)

// configUsage is the head of `hearth config -h`.
const configUsage = "Usage: hearth config [serve flags]\n\nPrints the configuration `hearth serve` would run with (docs/configuration.md);\nsecret values are never shown.\n\nFlags:\n"

// runConfig is `hearth config`: the effective configuration of `hearth serve` (the
// HEARTH_* variables, then the same flags) as VAR=value lines, secrets hidden. It exits
// 2 when a variable does not parse and 1 when the configuration is invalid (after
// printing it, with every reason).
func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := serveConfig("config", configUsage, args, stderr)
	if !ok {
		return code
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
