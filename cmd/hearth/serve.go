package main

import (
	"context"
	"fmt"
	"io"
)

// runServe is replaced by the API server (admin package).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "hearth serve: not built yet")
	return 1
}
