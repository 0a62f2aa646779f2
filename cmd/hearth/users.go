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
	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/internal/revocation"
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

Either way the user's sessions end: refresh tokens are revoked and a
revocation marker (revocations/{uid} in the Firestore project) makes the
API and the security rules refuse the ID tokens already issued. The user
signs in again to get a token with the new claim.

Flags:
  -auth-project       Firebase Auth project (HEARTH_AUTH_PROJECT, default GOOGLE_CLOUD_PROJECT)
  -firestore-project  project of the audit log (HEARTH_FIRESTORE_PROJECT, default GOOGLE_CLOUD_PROJECT);
                      -firestore-project="" skips the audit entry and the revocation marker`)
	}
	if code, done := helpAsked(args, usage, stdout); done {
		return code
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
	all, err := app.ParseEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(stderr, "hearth users:", err)
		return 2
	}
	cfg := all.API
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
	var marks admin.RevocationWriter
	if cfg.FirestoreProject != "" {
		if db, err = firestore.NewClient(ctx, cfg.FirestoreProject); err != nil {
			fmt.Fprintln(stderr, "hearth users:", err)
			return 1
		}
		defer db.Close()
		m, err := revocation.New(revocation.Config{}, db, nil, nil)
		if err != nil {
			fmt.Fprintln(stderr, "hearth users:", err)
			return 1
		}
		marks = m
	} else {
		fmt.Fprintln(stderr, "hearth users: no Firestore project: no audit entry and no revocation marker; "+
			"the user's current ID tokens keep their old claims in the security rules until they expire (at most an hour)")
	}
	u, err := admin.SetAdminClaim(ctx, authClient, db, marks, email, grant, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "hearth users:", err)
		return 1
	}
	verb := "granted to"
	if !grant {
		verb = "revoked from"
	}
	fmt.Fprintf(stdout, "admin claim %s %s (uid %s); claims now %v\n", verb, email, u.UID, u.CustomClaims)
	fmt.Fprintln(stdout, "The user's sessions have ended; the new claim is in the token they get when they sign in again.")
	return 0
}
