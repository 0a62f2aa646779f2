package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are set at link time by the Makefile
// (-ldflags "-X main.version=... -X main.commit=..."). Left empty (go build, go run,
// go install), buildVersion falls back to what the Go toolchain recorded in the binary.
var (
	version string
	commit  string
)

// versionInfo is what `hearth version` prints and the image labels carry.
type versionInfo struct {
	Version  string // a release tag, `git describe` output, or "(devel)"
	Commit   string // full commit hash, "+dirty" when built from a modified tree; "unknown" when none was recorded
	Go       string
	Platform string
}

// buildVersion returns the linker-set version and commit, or else the module version
// and vcs.revision / vcs.modified from debug.ReadBuildInfo.
func buildVersion(linkVersion, linkCommit string, info *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: linkVersion, Commit: linkCommit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info != nil {
		if v.Version == "" {
			v.Version = info.Main.Version
		}
		if v.Commit == "" {
			var rev string
			var dirty bool
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
			if rev != "" && dirty {
				rev += "+dirty"
			}
			v.Commit = rev
		}
		if info.GoVersion != "" {
			v.Go = info.GoVersion
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	return v
}

// runVersion is `hearth version`.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "hearth version: unexpected arguments %q\n", args)
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	v := buildVersion(version, commit, info)
	fmt.Fprintf(stdout, "hearth %s\ncommit %s\n%s %s\n", v.Version, v.Commit, v.Go, v.Platform)
	return 0
}
