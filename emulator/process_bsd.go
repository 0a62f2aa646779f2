//go:build unix && !linux

package emulator

import (
	"fmt"
	"os/exec"
	"syscall"
)

// startGroup starts cmd as the leader of a new process group. macOS has no parent-death
// signal, so a watchdog joins the group and kills it when hearth ends in any way, SIGKILL
// included (startWatchdog).
func startGroup(cmd *exec.Cmd) (release func(), err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	pgid := cmd.Process.Pid
	release, err = startWatchdog(pgid)
	if err != nil {
		signalGroup(pgid, true)
		_ = cmd.Wait()
		return nil, fmt.Errorf("watchdog for process group %d: %w", pgid, err)
	}
	return release, nil
}
