package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/admin"
)

// runUsers is `hearth users`: user administration from the command line,
// for the first admin (who has nobody to grant them the claim through the
// API). It uses the Admin SDK with Application Default Credentials, or the
// Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is set.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, `Usage:
  hearth users grant-admin [flags] EMAIL    set the custom claim admin: true
  hearth users revoke-admin [flags] EMAIL   remove it

The claim reaches the user's ID token at its next refresh (or sign-in).

Flags:
  -auth-project       Firebase Auth project (HEARTH_AUTH_PROJECT, default GOOGLE_CLOUD_PROJECT)
  -firestore-project  project of the audit log (HEARTH_FIRESTORE_PROJECT, default GOOGLE_CLOUD_PROJECT);
                      -firestore-project="" skips the audit entry`)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var grant bool
	switch args[0] {
	case "grant-admin":
		grant = true
	case "revoke-admin":
	default:
		fmt.Fprintf(stderr, "hearth users: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	cfg, err := admin.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "hearth users:", err)
		return 2
	}
	fs := flag.NewFlagSet("users "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.AuthProject, "auth-project", cfg.AuthProject, "Firebase Auth project")
	fs.StringVar(&cfg.FirestoreProject, "firestore-project", cfg.FirestoreProject, "Firestore project of the audit log")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "hearth users %s: want exactly one EMAIL\n", args[0])
		return 2
	}
	email := fs.Arg(0)
	if cfg.AuthProject == "" {
		fmt.Fprintln(stderr, "hearth users: no Auth project: set GOOGLE_CLOUD_PROJECT or -auth-project")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	authClient, err := admin.NewAuthClient(ctx, cfg.AuthProject)
	if err != nil {
		fmt.Fprintln(stderr, "hearth users:", err)
		return 1
	}
	var db *firestore.Client
	if cfg.FirestoreProject != "" {
		if db, err = firestore.NewClient(ctx, cfg.FirestoreProject); err != nil {
			fmt.Fprintln(stderr, "hearth users:", err)
			return 1
		}
		defer db.Close()
	}
	u, err := admin.SetAdminClaim(ctx, authClient, db, email, grant, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "hearth users:", err)
		return 1
	}
	verb := "granted to"
	if !grant {
		verb = "revoked from"
	}
	fmt.Fprintf(stdout, "admin claim %s %s (uid %s); claims now %v\n", verb, email, u.UID, u.CustomClaims)
	fmt.Fprintln(stdout, "It takes effect when the user's ID token is refreshed (or they sign in again).")
	return 0
}
