package emutest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hearth-chat/hearth/emulator"
)

// Env is one test's slice of the suite: its own project id (data, rules and triggers are
// per project in the Firestore emulator), and clients for it.
type Env struct {
	t         testing.TB
	ProjectID string // fresh per test: isolates data, rules and triggers
	// AuthProjectID is the Auth emulator's one project: its sign-in endpoints serve only the
	// project it was started with, so ID tokens carry this audience in every test.
	AuthProjectID string
	// FirestoreHost, AuthHost, StorageHost, FCMHost, FunctionsHost are host:port.
	FirestoreHost, AuthHost, StorageHost, FCMHost, FunctionsHost, PubSubHost string
	Bucket                                                                   string

	mu    sync.Mutex
	admin *firestore.Client
}

// New returns a fresh Env for t. Clients are closed when t ends.
func New(t testing.TB) *Env {
	t.Helper()
	if !running() {
		t.Fatal("emutest: no emulator suite: call os.Exit(emutest.Main(m)) from TestMain, or run under `hearth emulators exec`")
	}
	authProject := os.Getenv("GOOGLE_CLOUD_PROJECT")
	if authProject == "" {
		authProject = emulator.DefaultProjectID
	}
	return &Env{
		t:             t,
		ProjectID:     NewProjectID(),
		AuthProjectID: authProject,
		FirestoreHost: os.Getenv("FIRESTORE_EMULATOR_HOST"),
		AuthHost:      os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"),
		StorageHost:   os.Getenv("STORAGE_EMULATOR_HOST"),
		FCMHost:       os.Getenv("HEARTH_FCM_EMULATOR_HOST"),
		FunctionsHost: os.Getenv("HEARTH_FUNCTIONS_EMULATOR_HOST"),
		PubSubHost:    os.Getenv("PUBSUB_EMULATOR_HOST"),
		Bucket:        os.Getenv("HEARTH_STORAGE_BUCKET"),
	}
}

// NewProjectID returns a fresh "demo-" project id (the prefix keeps every tool offline).
func NewProjectID() string {
	var b [6]byte
	rand.Read(b[:])
	return "demo-t" + hex.EncodeToString(b[:])
}

// Context returns a context that ends with the test.
func (e *Env) Context() context.Context { return e.t.Context() }

// Firestore returns the admin client for the test's project: it bypasses security rules,
// like Hearth's own server code.
func (e *Env) Firestore() *firestore.Client {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.admin == nil {
		c, err := firestore.NewClient(context.Background(), e.ProjectID)
		if err != nil {
			e.t.Fatalf("emutest: admin Firestore client: %v", err)
		}
		e.t.Cleanup(func() { c.Close() })
		e.admin = c
	}
	return e.admin
}

// UserClient returns a Firestore client that acts as uid, with extra token claims (for
// example {"admin": true}): the emulator enforces the security rules on it. A nil-claims,
// empty uid client is unauthenticated.
//
// It carries its own gRPC connection with the user's token on every call; the client built
// from FIRESTORE_EMULATOR_HOST always sends "Bearer owner" and so is always admin.
func (e *Env) UserClient(uid string, claims map[string]any) *firestore.Client {
	e.t.Helper()
	c, err := NewUserClient(context.Background(), e.FirestoreHost, e.ProjectID, uid, claims)
	if err != nil {
		e.t.Fatalf("emutest: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// NewUserClient returns a Firestore client of the emulator at host that acts as uid in
// project (see Env.UserClient); an empty uid is unauthenticated.
func NewUserClient(ctx context.Context, host, project, uid string, claims map[string]any) (*firestore.Client, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if uid != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(FakeIDToken(project, uid, claims))))
	}
	conn, err := grpc.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial Firestore: %w", err)
	}
	c, err := firestore.NewClient(ctx, project, option.WithGRPCConn(conn))
	if err != nil {
		return nil, fmt.Errorf("user Firestore client: %w", err)
	}
	return c, nil
}

// LoadRules loads Firestore rules source for the test's project.
func (e *Env) LoadRules(source string) {
	e.t.Helper()
	if err := emulator.LoadFirestoreRules(e.t.Context(), e.FirestoreHost, e.ProjectID, source); err != nil {
		e.t.Fatalf("emutest: %v", err)
	}
}

// bearer is gRPC per-call credentials carrying an end-user ID token.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// FakeIDToken returns an unsigned ID token as the Firestore emulator accepts it for rules:
// header {"alg":"none"}, Firebase claims, and an empty signature after a trailing dot. The
// emulator checks no signature; uid comes from "sub".
func FakeIDToken(project, uid string, claims map[string]any) string {
	now := time.Now().Unix()
	payload := map[string]any{
		"iss": "https://securetoken.google.com/" + project, "aud": project,
		"iat": now, "exp": now + 3600, "auth_time": now,
		"sub": uid, "user_id": uid,
		"firebase": map[string]any{"sign_in_provider": "custom", "identities": map[string]any{}},
	}
	for k, v := range claims {
		payload[k] = v
	}
	enc := func(v any) string {
		raw, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(payload) + "."
}

// uniqueEmail makes an address unique across tests that share the Auth emulator.
func (e *Env) uniqueEmail(name string) string {
	name = strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	return name + "+" + e.ProjectID + "@example.com"
}
