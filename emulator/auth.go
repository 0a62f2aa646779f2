package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrNoNode is returned when node or npm is missing.
var ErrNoNode = errors.New("node and npm not found on PATH: the Auth emulator is the Firebase CLI, which needs Node.js 20 or newer " +
	"(Debian/Ubuntu: apt-get install nodejs npm)")

// firebaseBin is the pinned Firebase CLI, installed from emulator/package-lock.json.
func firebaseBin(root string) string {
	return filepath.Join(root, "emulator", "node_modules", ".bin", "firebase")
}

// EnsureFirebaseTools installs the pinned firebase-tools with `npm ci` when it is missing.
// A file lock keeps two suites starting at once (packages tested in parallel) from running
// npm in the same folder together.
func EnsureFirebaseTools(ctx context.Context, root string) (string, error) {
	bin := firebaseBin(root)
	if fileExists(bin) {
		return bin, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", ErrNoNode
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", ErrNoNode
	}
	dir := filepath.Join(root, "emulator")
	lock, err := os.OpenFile(filepath.Join(dir, ".npm-install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("install firebase-tools: %w", err)
	}
	defer lock.Close()
	unlock, err := lockFile(lock)
	if err != nil {
		return "", fmt.Errorf("install firebase-tools: lock: %w", err)
	}
	defer unlock()
	if fileExists(bin) { // someone else installed it while we waited
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm ci in %s failed: %w\n%s\nfix the npm error above (is the npm registry reachable?), then run `npm ci` in %s", dir, err, lastLines(out, 20), dir)
	}
	if !fileExists(bin) {
		return "", fmt.Errorf("npm ci in %s succeeded but %s is missing: is firebase-tools still in emulator/package.json?", dir, bin)
	}
	return bin, nil
}

// startAuth runs the Firebase CLI's Auth emulator. The CLI reads its ports from a
// firebase.json in its working folder, so the suite writes one there with its own ports;
// TMPDIR is private too because the CLI keeps a hub locator file per project id in it.
func startAuth(ctx context.Context, s *Suite) (*process, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, ErrNoNode
	}
	bin, err := EnsureFirebaseTools(ctx, s.cfg.Root)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.stateDir, "auth")
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("start Auth emulator: %w", err)
	}
	p := s.cfg.Ports
	conf := map[string]any{
		"emulators": map[string]any{
			"auth":              map[string]any{"host": p.Auth.Host, "port": p.Auth.Port},
			"hub":               map[string]any{"host": p.Hub.Host, "port": p.Hub.Port},
			"logging":           map[string]any{"host": p.Logging.Host, "port": p.Logging.Port},
			"ui":                map[string]any{"enabled": false},
			"singleProjectMode": true,
		},
	}
	raw, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "firebase.json"), raw, 0o644); err != nil {
		return nil, fmt.Errorf("start Auth emulator: %w", err)
	}
	env := append(os.Environ(), "TMPDIR="+tmp, "FIREBASE_CLI_DISABLE_UPDATE_CHECK=true", "CI=true")
	// Run the CLI's node entry point directly, never through npx (npx orphans the emulator).
	proc, err := startProcess("Auth emulator", dir, env, filepath.Join(s.stateDir, "auth.log"),
		bin, "emulators:start", "--only", "auth", "--project", s.cfg.ProjectID)
	if err != nil {
		return nil, err
	}
	if err := proc.waitHTTP(ctx, "http://"+p.Auth.Addr()+"/emulator/v1/projects/"+s.cfg.ProjectID+"/config"); err != nil {
		proc.stop(s.grace)
		return nil, err
	}
	return proc, nil
}
