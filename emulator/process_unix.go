//go:build unix

package emulator

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// osSupported: the suite runs on Linux and macOS (other Unix systems untested).
const osSupported = true

// signalGroup sends SIGTERM (or SIGKILL when kill is set) to every process of the group.
func signalGroup(pgid int, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
}

// watchdogScript blocks until its stdin, a pipe only hearth holds open for writing, reaches
// end of file, then kills its own process group. The kernel closes hearth's end when hearth
// exits for any reason, so the group cannot outlive hearth even without a parent-death signal.
const watchdogScript = "read _; kill -KILL 0"

// startWatchdog starts a /bin/sh watchdog inside process group pgid. release closes hearth's
// end of the pipe, so the watchdog kills whatever is left of the group, and waits (up to 5 s)
// until it has exited.
func startWatchdog(pgid int) (release func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
	err = cmd.Start()
	r.Close() // the watchdog has its own copy
	if err != nil {
		w.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	return func() {
		w.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}, nil
}
