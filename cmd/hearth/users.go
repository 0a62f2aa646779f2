package main

import (
	"context"
	"fmt"
	"io"
)

// runUsers is replaced by user administration.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "hearth users: not built yet")
	return 1
}
