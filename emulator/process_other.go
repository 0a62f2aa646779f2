//go:build !unix

package emulator

import "os/exec"

// osSupported is false: Start refuses at once with ErrUnsupportedOS.
const osSupported = false

// startGroup refuses: the suite relies on Unix process groups.
func startGroup(*exec.Cmd) (release func(), err error) { return nil, ErrUnsupportedOS }

// signalGroup has nothing to signal where no group was started.
func signalGroup(int, bool) {}
