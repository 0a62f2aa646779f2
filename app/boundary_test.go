package app

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hearth-chat/hearth"

// layerViolations returns a line per dependency that points the wrong way, given each
// package's transitive dependencies (the non-test build of `go list -deps`):
//   - no package but the emulator suite itself and the CLI (cmd/..., whose `hearth dev`
//     runs the suite) depends on emulator/...;
//   - internal/... (the domain) depends on none of admin, functions, app, cmd;
//   - admin and functions (the doors) do not depend on each other, nor on app (the
//     composition root, above them).
func layerViolations(deps map[string][]string) []string {
	under := func(pkg, dir string) bool {
		p := module + "/" + dir
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	type rule struct {
		applies   func(pkg string) bool
		forbidden []string
		why       string
	}
	rules := []rule{
		{func(p string) bool { return !under(p, "emulator") && !under(p, "cmd") },
			[]string{"emulator"}, "production code never depends on the emulators or fakes"},
		{func(p string) bool { return under(p, "internal") },
			[]string{"admin", "functions", "app", "cmd"}, "the domain (internal/...) never points up at the doors"},
		{func(p string) bool { return under(p, "admin") },
			[]string{"functions", "app", "cmd"}, "admin and functions never depend on each other or on the root"},
		{func(p string) bool { return under(p, "functions") },
			[]string{"admin", "app", "cmd"}, "admin and functions never depend on each other or on the root"},
	}
	var out []string
	pkgs := make([]string, 0, len(deps))
	for p := range deps {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		for _, r := range rules {
			if !r.applies(pkg) {
				continue
			}
			for _, d := range deps[pkg] {
				for _, f := range r.forbidden {
					if under(d, f) {
						out = append(out, pkg+" depends on "+d+": "+r.why)
					}
				}
			}
		}
	}
	return out
}

// TestImportBoundaries lists every package of the module with its transitive
// dependencies (go list -deps of the non-test build) and fails on each dependency that
// points the wrong way (layerViolations).
func TestImportBoundaries(t *testing.T) {
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages: install Go (https://go.dev/dl) or put it on PATH: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), gobin, "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{module + "/app", module + "/admin", module + "/functions", module + "/internal/push"} {
		if _, ok := deps[want]; !ok {
			t.Fatalf("go list listed %d packages, not %s: cannot check the layers", len(deps), want)
		}
	}
	for _, v := range layerViolations(deps) {
		t.Error(v)
	}
}

// TestLayerViolations: each rule of layerViolations catches what it forbids, and lets
// through what is allowed.
func TestLayerViolations(t *testing.T) {
	t.Parallel()
	m := func(s string) string { return module + "/" + s }
	tests := []struct {
		name string
		pkg  string
		deps []string
		bad  bool
	}{
		{"domain on the fake FCM", m("internal/push"), []string{m("emulator/fcmfake")}, true},
		{"domain on the trigger layer", m("internal/push"), []string{m("functions")}, true},
		{"domain on the API", m("internal/media"), []string{m("admin")}, true},
		{"domain on the root", m("internal/inbox"), []string{m("app")}, true},
		{"domain on the CLI", m("internal/model"), []string{m("cmd/hearth")}, true},
		{"API on the triggers", m("admin"), []string{m("functions")}, true},
		{"triggers on the API", m("functions"), []string{m("admin")}, true},
		{"a door of functions on the API", m("functions/cloudfunctions"), []string{m("admin")}, true},
		{"triggers on the root", m("functions"), []string{m("app")}, true},
		{"rules on the suite", m("rules"), []string{m("emulator")}, true},
		{"root on the suite", m("app"), []string{m("emulator/emutest")}, true},
		{"root on doors and domain", m("app"), []string{m("admin"), m("functions"), m("internal/push")}, false},
		{"CLI on the suite", m("cmd/hearth"), []string{m("emulator"), m("app")}, false},
		{"suite on the domain", m("emulator/fcmfake"), []string{m("internal/model")}, false},
		{"a name that only starts alike", m("internal/x"), []string{m("administration"), m("functionsx")}, false},
		{"domain on the domain", m("internal/push"), []string{m("internal/model"), m("internal/clock")}, false},
	}
	for _, tt := range tests {
		got := layerViolations(map[string][]string{tt.pkg: tt.deps})
		if (len(got) > 0) != tt.bad {
			t.Errorf("%s: layerViolations(%s -> %v) = %q, want violation %v", tt.name, tt.pkg, tt.deps, got, tt.bad)
		}
	}
}
