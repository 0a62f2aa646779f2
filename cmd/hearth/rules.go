package main

import (
	"context"
	"fmt"
	"io"
)

// runRules is replaced by the rules tooling (rules package).
func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "hearth rules: not built yet")
	return 1
}
