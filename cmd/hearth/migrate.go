package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/internal/blocks"
	"github.com/hearth-chat/hearth/internal/clock"
)

// runMigrate is `hearth migrate`: one-off data upgrades of a deployment
// (docs/deploy.md, "Upgrading"). Each is safe to run while the backend runs,
// and to run again.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, `Usage:
  hearth migrate blockers [flags]   build the blockers index (blockers/{uid}) from
                                    the block documents written before it was kept

It uses Application Default Credentials, or the Firestore emulator when
FIRESTORE_EMULATOR_HOST is set.

Flags:
  -firestore-project  the project (HEARTH_FIRESTORE_PROJECT, default GOOGLE_CLOUD_PROJECT)
  -page               documents read per page (default 300)`)
	}
	if code, done := helpAsked(args, usage, stdout); done {
		return code
	}
	if args[0] != "blockers" {
		fmt.Fprintf(stderr, "hearth migrate: unknown migration %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	all, err := app.ParseEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(stderr, "hearth migrate:", err)
		return 2
	}
	project := all.API.FirestoreProject
	fs := flag.NewFlagSet("migrate blockers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&project, "firestore-project", project, "Firestore project")
	pageSize := fs.Int("page", 300, "documents read per page")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch {
	case fs.NArg() != 0:
		fmt.Fprintf(stderr, "hearth migrate blockers: unexpected arguments %q\n", fs.Args())
		return 2
	case project == "":
		fmt.Fprintln(stderr, "hearth migrate: no Firestore project: set GOOGLE_CLOUD_PROJECT or -firestore-project")
		return 2
	case *pageSize < 1 || *pageSize > 1000:
		fmt.Fprintln(stderr, "hearth migrate blockers: -page must be 1 to 1000")
		return 2
	}
	db, err := firestore.NewClient(ctx, project)
	if err != nil {
		fmt.Fprintln(stderr, "hearth migrate:", err)
		return 1
	}
	defer db.Close()
	// The cap is the trigger's default: the backend indexes with the same one.
	ix, err := blocks.NewIndex(db, clock.System{}, 0)
	if err != nil {
		fmt.Fprintln(stderr, "hearth migrate:", err)
		return 1
	}
	n, err := ix.Backfill(ctx, *pageSize, func(synced int) {
		fmt.Fprintf(stderr, "hearth migrate blockers: %d blocks synced\n", synced)
	})
	if err != nil {
		fmt.Fprintf(stderr, "hearth migrate blockers: after %d blocks: %v\n", n, err)
		return 1
	}
	fmt.Fprintf(stdout, "blockers index rebuilt from %d blocks in %s\n", n, project)
	return 0
}
