// Package emutest is the test harness for every package that talks to Firebase: it reuses
// the suite named by the environment (`make test` runs the tests under
// `hearth emulators exec`) or starts one for the package on free ports, and gives each test
// a fresh project id with admin and end-user Firestore clients, Auth emulator users with
// real ID tokens, rules loading, trigger delivery and the fake FCM's record.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }
//
// and in each test: env := emutest.New(t).
package emutest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator"
)

// requiredEnv names the variables that together mean "a suite is already running".
var requiredEnv = []string{
	"FIRESTORE_EMULATOR_HOST",
	"FIREBASE_AUTH_EMULATOR_HOST",
	"STORAGE_EMULATOR_HOST",
	"HEARTH_FCM_EMULATOR_HOST",
	"HEARTH_FUNCTIONS_EMULATOR_HOST",
	"HEARTH_STORAGE_SIGNER",
	"PUBSUB_EMULATOR_HOST",
}

// Main runs m against a suite and returns the exit code. When the environment does not name
// a running suite, it starts one on free ports for this test binary and stops it afterwards.
//
// The suite's variables are set with os.Setenv here: TestMain has no *testing.T, and the
// SDKs read them from the process environment.
func Main(m *testing.M) int {
	if running() {
		return m.Run()
	}
	suite, err := startSuite()
	if err != nil {
		fmt.Fprintln(os.Stderr, "emutest: cannot start the emulator suite:", err)
		return 1
	}
	defer suite.Stop()
	for _, kv := range suite.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return m.Run()
}

func running() bool {
	for _, k := range requiredEnv {
		if os.Getenv(k) == "" {
			return false
		}
	}
	return true
}

func startSuite() (*emulator.Suite, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return emulator.StartLocal(ctx, true, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}
