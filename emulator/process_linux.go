package emulator

import (
	"os/exec"
	"syscall"
)

// startGroup starts cmd as the leader of a new process group. Pdeathsig: if hearth itself is
// killed with SIGKILL (a test binary past its deadline), the kernel still stops the child.
func startGroup(cmd *exec.Cmd) (release func(), err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() {}, nil
}
