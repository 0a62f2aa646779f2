package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/oidc"
)

// NewAuthClient returns the Admin SDK Auth client of project. With
// FIREBASE_AUTH_EMULATOR_HOST set it talks to the Auth emulator (no
// credentials needed; tokens are not signature-checked there), otherwise to
// Firebase with Application Default Credentials.
func NewAuthClient(ctx context.Context, project string) (*auth.Client, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project})
	if err != nil {
		return nil, fmt.Errorf("firebase app %s: %w", project, err)
	}
	c, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth client %s: %w", project, err)
	}
	return c, nil
}

// DepsFromEnv builds the production Deps for cfg: a Firestore client of
// cfg.FirestoreProject, an Auth client of cfg.AuthProject, an App Check
// client unless App Check is off, and a Storage client when
// cfg.StorageBucket is set. The standard emulator variables
// (FIRESTORE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST,
// STORAGE_EMULATOR_HOST) switch each client to its emulator. With cfg.Events
// on, Callers is an OIDC verifier of cfg's audiences and service accounts. ctx must live
// as long as the server: the App Check client refreshes its keys under it.
// The returned func closes the clients. Events, Schedulers, Logger, Clock and
// Registry are left for the caller.
func DepsFromEnv(ctx context.Context, cfg Config) (Deps, func(), error) {
	var d Deps
	var closers []func() error
	cleanup := func() {
		for _, c := range closers {
			c()
		}
	}
	if cfg.FirestoreProject == "" || cfg.AuthProject == "" {
		return d, cleanup, errors.New("deps: Firestore and Auth projects required (GOOGLE_CLOUD_PROJECT)")
	}
	fs, err := firestore.NewClient(ctx, cfg.FirestoreProject)
	if err != nil {
		return d, cleanup, fmt.Errorf("firestore client %s: %w", cfg.FirestoreProject, err)
	}
	closers = append(closers, fs.Close)
	d.Firestore = fs
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.AuthProject})
	if err != nil {
		cleanup()
		return Deps{}, func() {}, fmt.Errorf("firebase app %s: %w", cfg.AuthProject, err)
	}
	if d.Auth, err = app.Auth(ctx); err != nil {
		cleanup()
		return Deps{}, func() {}, fmt.Errorf("auth client %s: %w", cfg.AuthProject, err)
	}
	if cfg.AppCheck != AppCheckOff {
		ac, err := app.AppCheck(ctx)
		if err != nil {
			cleanup()
			return Deps{}, func() {}, fmt.Errorf("app check client %s: %w", cfg.AuthProject, err)
		}
		d.AppCheck = ac
	}
	if cfg.StorageBucket != "" {
		sc, err := storage.NewClient(ctx)
		if err != nil {
			cleanup()
			return Deps{}, func() {}, fmt.Errorf("storage client: %w", err)
		}
		closers = append(closers, sc.Close)
		d.Storage = sc
	}
	if cfg.Events {
		// Google's keys are fetched with a plain client; the tokens are the credentials.
		// A demo project may take them from a local issuer instead (checked again here:
		// DepsFromEnv may be called with a configuration nobody validated).
		if err := cfg.localIssuer(); err != nil {
			cleanup()
			return Deps{}, func() {}, fmt.Errorf("events: %w", err)
		}
		if d.Callers, err = oidc.New(ctx, cfg.eventCallers(), oidc.Deps{KeysURL: cfg.EventsCertsURL}); err != nil {
			cleanup()
			return Deps{}, func() {}, fmt.Errorf("events: %w", err)
		}
	}
	d.AuthEmulatorHost = os.Getenv("FIREBASE_AUTH_EMULATOR_HOST")
	d.Logger = slog.Default()
	return d, cleanup, nil
}

// MediaEraser removes a user's uploads (objects, thumbnails, upload records marked
// removed) and quota documents when the user is erased. *media.Issuer implements it;
// eraseUser uses it when the server's MediaService does.
type MediaEraser interface {
	EraseUser(ctx context.Context, uid string) (media.Erasure, error)
}

var _ MediaEraser = (*media.Issuer)(nil)
