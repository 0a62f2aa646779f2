package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
)

// TestServeRefusesEmulatorsOutsideDemo: `hearth serve` does not start when an emulator
// variable is set and the project is not a demo-* one, and says which variable.
func TestServeRefusesEmulatorsOutsideDemo(t *testing.T) {
	vars := []string{"FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "STORAGE_EMULATOR_HOST",
		"PUBSUB_EMULATOR_HOST", "HEARTH_FCM_EMULATOR_HOST"}
	for _, v := range vars {
		t.Run(v, func(t *testing.T) {
			for _, other := range vars {
				t.Setenv(other, "")
			}
			t.Setenv("GOOGLE_CLOUD_PROJECT", "my-prod-project")
			t.Setenv(v, "127.0.0.1:1")
			// Bounded, so that a serve that does start fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var out, errOut emutest.Buffer
			code := run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), v) || !strings.Contains(errOut.String(), `"my-prod-project"`) {
				t.Errorf("hearth serve with %s and project my-prod-project = %d, %q; want 2 and a message naming both", v, code, errOut.String())
			}
		})
	}
	t.Run("auth project differs", func(t *testing.T) {
		for _, other := range vars {
			t.Setenv(other, "")
		}
		t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-x")
		t.Setenv("HEARTH_AUTH_PROJECT", "real-auth")
		t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:1")
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var out, errOut emutest.Buffer
		if code := run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `"real-auth"`) {
			t.Errorf("hearth serve (auth project real-auth) = %d, %q; want 2 naming it", code, errOut.String())
		}
	})
}

func TestRefuseEmulatorsOutsideDemo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env      []string
		projects []string
		ok       bool
	}{
		{nil, []string{"my-prod"}, true},
		{[]string{"FIRESTORE_EMULATOR_HOST="}, []string{"my-prod"}, true}, // set but empty: the SDKs ignore it
		{[]string{"PATH=/bin", "HOME=/root"}, []string{"my-prod"}, true},
		{[]string{"FIRESTORE_EMULATOR_HOST=127.0.0.1:8080"}, []string{"demo-hearth", "demo-hearth"}, true},
		{[]string{"FIRESTORE_EMULATOR_HOST=127.0.0.1:8080"}, []string{"my-prod"}, false},
		{[]string{"FIREBASE_DATABASE_EMULATOR_HOST=x"}, []string{"my-prod"}, false}, // any *_EMULATOR_HOST
		{[]string{"FIRESTORE_EMULATOR_HOST=x"}, []string{"demo-a", "prod-auth"}, false},
		{[]string{"FIRESTORE_EMULATOR_HOST=x"}, []string{"Demo-a"}, false},
		{[]string{"FIRESTORE_EMULATOR_HOST=x"}, []string{"demo"}, false},
	}
	for _, tt := range tests {
		if err := refuseEmulatorsOutsideDemo(tt.env, tt.projects...); (err == nil) != tt.ok {
			t.Errorf("refuseEmulatorsOutsideDemo(%q, %q) = %v, want ok %v", tt.env, tt.projects, err, tt.ok)
		}
	}
}

// TestServeRoleErrors: a bad role, by flag or HEARTH_ROLE, or the events role with
// events off, exits 2 before anything starts, with a message naming what to fix; the
// help documents the roles.
func TestServeRoleErrors(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-roles")
	t.Setenv("HEARTH_EVENTS", "")
	tests := []struct {
		name string
		env  string // HEARTH_ROLE
		args []string
		want []string
	}{
		{"unknown flag role", "", []string{"--role=bogus"}, []string{`"bogus"`, "-role", "api, events, worker, or all"}},
		{"one bad name in a list", "", []string{"--role=api,wrker"}, []string{`"wrker"`, "-role"}},
		{"empty flag", "", []string{"--role="}, []string{"role: empty", "-role"}},
		{"unknown env role", "api,nope", nil, []string{"HEARTH_ROLE", `"nope"`}},
		{"events without HEARTH_EVENTS", "", []string{"--role=events"}, []string{"role events", "HEARTH_EVENTS=on"}},
		{"api,events without HEARTH_EVENTS", "api,events", nil, []string{"role api,events", "HEARTH_EVENTS=on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HEARTH_ROLE", tt.env)
			// Bounded, so that a serve that does start fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var out, errOut emutest.Buffer
			code := run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, tt.args...), &out, &errOut)
			if code != 2 {
				t.Errorf("hearth serve %q (HEARTH_ROLE=%q) = %d, want 2; stderr %q", tt.args, tt.env, code, errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("hearth serve %q (HEARTH_ROLE=%q) stderr = %q, want it to contain %q", tt.args, tt.env, errOut.String(), w)
				}
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		t.Setenv("HEARTH_ROLE", "")
		var out, errOut emutest.Buffer
		if code := run(t.Context(), []string{"serve", "--help"}, &out, &errOut); code != 0 {
			t.Errorf("hearth serve --help = %d, want 0", code)
		}
		help := out.String() + errOut.String()
		for _, w := range []string{"-role", "HEARTH_ROLE", "api ", "events ", "worker ", "all ", "/v1, /admin/v1", "/schedulers/", "/healthz"} {
			if !strings.Contains(help, w) {
				t.Errorf("hearth serve --help does not mention %q:\n%s", w, help)
			}
		}
	})
}

// TestServeRefusesLocalIssuerOutsideDemo: `hearth serve --role=events` with OIDC keys
// from a local issuer (HEARTH_EVENTS_CERTS_URL) does not start for a real project, and
// says why; no emulator variable is involved, so only that check can refuse it.
func TestServeRefusesLocalIssuerOutsideDemo(t *testing.T) {
	for _, v := range []string{"FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "STORAGE_EMULATOR_HOST",
		"PUBSUB_EMULATOR_HOST", "HEARTH_FCM_EMULATOR_HOST", "HEARTH_AUTH_PROJECT", "HEARTH_FIRESTORE_PROJECT", "HEARTH_ROLE"} {
		t.Setenv(v, "")
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", "my-prod-project")
	t.Setenv("HEARTH_EVENTS", "on")
	t.Setenv("HEARTH_EVENTS_AUDIENCE", "https://hearth-events-123.europe-west1.run.app")
	t.Setenv("HEARTH_EVENTS_SERVICE_ACCOUNTS", "hearth@my-prod-project.iam.gserviceaccount.com")
	t.Setenv("HEARTH_EVENTS_CERTS_URL", "http://127.0.0.1:1/certs")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out, errOut emutest.Buffer
	code := run(ctx, []string{"serve", "--role=events", "-addr", "127.0.0.1:0"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "HEARTH_EVENTS_CERTS_URL") || !strings.Contains(errOut.String(), `"my-prod-project"`) {
		t.Errorf("hearth serve with HEARTH_EVENTS_CERTS_URL for my-prod-project = %d, %q; want 2 and a message naming both", code, errOut.String())
	}
}
