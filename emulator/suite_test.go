package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator"
)

func testConfig(t *testing.T) (emulator.Config, emulator.Options) {
	t.Helper()
	root, err := emulator.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := emulator.LoadConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ports = emulator.FreePorts(cfg.Ports)
	return cfg, emulator.Options{StateDir: t.TempDir()}
}

// TestSuiteStartStop starts a whole suite, checks every part answers, stops it and checks
// that no child process and no port is left behind.
func TestSuiteStartStop(t *testing.T) {
	cfg, opts := testConfig(t)
	suite, err := emulator.Start(t.Context(), cfg, opts)
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	p := suite.Config().Ports
	urls := map[string]string{
		"firestore": "http://" + p.Firestore.Addr() + "/",
		"auth":      "http://" + p.Auth.Addr() + "/emulator/v1/projects/" + cfg.ProjectID + "/config",
		"storage":   "http://" + p.Storage.Addr() + "/_internal/healthcheck",
		"functions": "http://" + p.Functions.Addr() + "/healthz",
		"fcm":       "http://" + p.FCM.Addr() + "/v1/sent",
	}
	for name, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			t.Errorf("%s: GET %s = %v", name, u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: GET %s = %s, want 200", name, u, resp.Status)
		}
	}
	pids := suite.Pids()
	if len(pids) != 2 {
		t.Fatalf("Pids() = %v, want java and node", pids)
	}
	if err := suite.Stop(); err != nil {
		t.Errorf("Stop() = %v", err)
	}
	for _, pid := range pids {
		// The children ran in their own process groups: nothing of either group may remain.
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Stop (kill -0 = %v)", pid, err)
		}
	}
	for name, ep := range map[string]emulator.Endpoint{"firestore": p.Firestore, "auth": p.Auth, "storage": p.Storage, "functions": p.Functions, "fcm": p.FCM} {
		ln, err := net.Listen("tcp", ep.Addr())
		if err != nil {
			t.Errorf("%s port %s still taken after Stop: %v", name, ep.Addr(), err)
			continue
		}
		ln.Close()
	}
}

func TestBusyPortFailsAtOnce(t *testing.T) {
	cfg, opts := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg.Ports.Firestore.Port = ln.Addr().(*net.TCPAddr).Port
	_, err = emulator.Start(t.Context(), cfg, opts)
	if !errors.Is(err, emulator.ErrPortInUse) {
		t.Fatalf("Start() with a busy port = %v, want ErrPortInUse", err)
	}
	want := fmt.Sprintf("Firestore emulator cannot listen on %s", ln.Addr())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Start() error = %q, want it to name %q", err, want)
	}
}

func TestFindFirestoreJar(t *testing.T) {
	t.Run("explicit path missing", func(t *testing.T) {
		t.Setenv("HEARTH_FIRESTORE_EMULATOR_JAR", filepath.Join(t.TempDir(), "nope.jar"))
		if _, err := emulator.FindFirestoreJar(); err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("FindFirestoreJar() = %v, want a no-such-file error", err)
		}
	})
	t.Run("explicit path wins", func(t *testing.T) {
		jar := filepath.Join(t.TempDir(), "my.jar")
		os.WriteFile(jar, nil, 0o644)
		t.Setenv("HEARTH_FIRESTORE_EMULATOR_JAR", jar)
		if got, err := emulator.FindFirestoreJar(); err != nil || got != jar {
			t.Errorf("FindFirestoreJar() = %q, %v, want %q", got, err, jar)
		}
	})
}

// TestEmulatorDiesDuringStart gives java a jar that is not one: the start must fail fast,
// name the emulator and show its log, and leave nothing running.
func TestEmulatorDiesDuringStart(t *testing.T) {
	cfg, opts := testConfig(t)
	jar := filepath.Join(t.TempDir(), "broken.jar")
	os.WriteFile(jar, []byte("not a jar"), 0o644)
	t.Setenv("HEARTH_FIRESTORE_EMULATOR_JAR", jar)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := emulator.Start(ctx, cfg, opts)
	if !errors.Is(err, emulator.ErrDied) {
		t.Fatalf("Start() with a broken jar = %v, want ErrDied", err)
	}
	if !strings.Contains(err.Error(), "Firestore emulator") || !strings.Contains(err.Error(), "firestore.log") {
		t.Errorf("Start() error = %q, want the emulator and its log named", err)
	}
}

func TestMissingJava(t *testing.T) {
	cfg, opts := testConfig(t)
	t.Setenv("PATH", t.TempDir()) // no java, no node
	_, err := emulator.Start(t.Context(), cfg, opts)
	if !errors.Is(err, emulator.ErrNoJava) && !errors.Is(err, emulator.ErrNoNode) {
		t.Fatalf("Start() without java or node = %v, want ErrNoJava or ErrNoNode", err)
	}
}
