package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/emulator/emutest"
)

func TestBuildVersion(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/hearth-chat/hearth", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name                string
		linkV, linkC        string
		info                *debug.BuildInfo
		wantV, wantC, wantG string
	}{
		{"ldflags win", "v1.2.3", "feedbeef", vcs, "v1.2.3", "feedbeef", "go1.26.0"},
		{"build info", "", "", vcs, "(devel)", "0123abcd+dirty", "go1.26.0"},
		{"clean tree", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "aa"}, {Key: "vcs.modified", Value: "false"}}}, "v0.4.0", "aa", ""},
		{"nothing recorded", "", "", nil, "(devel)", "unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildVersion(tt.linkV, tt.linkC, tt.info)
			if got.Version != tt.wantV || got.Commit != tt.wantC || (tt.wantG != "" && got.Go != tt.wantG) {
				t.Errorf("buildVersion(%q, %q, info) = %+v, want version %q commit %q go %q", tt.linkV, tt.linkC, got, tt.wantV, tt.wantC, tt.wantG)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	var out, errb emutest.Buffer
	if code := run(t.Context(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "hearth ") || !strings.Contains(out.String(), "\ncommit ") {
		t.Errorf("run(version) = %d, %q (stderr %q); want 0 and \"hearth <version>\\ncommit <commit>\"", code, out.String(), errb.String())
	}
	if code := run(t.Context(), []string{"version", "extra"}, &out, &errb); code != 2 {
		t.Errorf("run(version extra) = %d, want 2", code)
	}
}
