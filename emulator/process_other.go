//go:build !unix

package emulator

import "os/exec"

// startGroup refuses: the suite relies on Unix process groups.
func startGroup(*exec.Cmd) (release func(), err error) { return nil, ErrUnsupportedOS }

// signalGroup has nothing to signal where no group was started.
func signalGroup(int, bool) {}
