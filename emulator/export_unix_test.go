//go:build unix

package emulator

// StartWatchdog exposes the macOS process-group watchdog to the tests, which run it on Linux
// too: it relies on nothing but POSIX sh, pipes and process groups.
var StartWatchdog = startWatchdog
