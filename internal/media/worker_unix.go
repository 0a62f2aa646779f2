//go:build unix

package media

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// applyWorkerLimits sets the child's own resource limits, soft and hard, so that
// nothing the child runs afterwards can raise them again:
//   - RLIMIT_CPU: SIGXCPU at the limit (the Go runtime does not act on it), SIGKILL one
//     second later from the kernel;
//   - RLIMIT_AS (Linux): the address space the child holds now (the binary, the Go
//     runtime's reservations, most of them without memory behind them; far more
//     under the race detector) plus l.Memory. An allocation past it fails, and the Go
//     runtime dies with "out of memory". macOS does not enforce an address-space limit (setrlimit
//     accepts RLIMIT_AS there and ignores it), so there the memory is bounded only by
//     the pixel limits, GOMEMLIMIT, the CPU limit and the deadline;
//   - RLIMIT_FSIZE 0 and RLIMIT_CORE 0: the child writes no file and no core dump.
//
// The child sets them on itself, as the first thing it does, before reading a byte of
// the upload: os/exec cannot run code between fork and exec, and prlimit(2) on the
// child's pid from the parent is Linux-only and needs golang.org/x/sys.
func applyWorkerLimits(l workerLimits) error {
	cpu := uint64(l.CPU.Seconds())
	set := []struct {
		name      string
		res       int
		cur, hard uint64
	}{
		{"RLIMIT_CPU", syscall.RLIMIT_CPU, cpu, cpu + 1},
		{"RLIMIT_FSIZE", syscall.RLIMIT_FSIZE, 0, 0},
		{"RLIMIT_CORE", syscall.RLIMIT_CORE, 0, 0},
	}
	if runtime.GOOS == "linux" {
		base, err := addressSpace()
		if err != nil {
			return err
		}
		as := uint64(base) + uint64(l.Memory)
		set = append(set, struct {
			name      string
			res       int
			cur, hard uint64
		}{"RLIMIT_AS", syscall.RLIMIT_AS, as, as})
	}
	for _, s := range set {
		var old syscall.Rlimit
		if err := syscall.Getrlimit(s.res, &old); err != nil {
			return fmt.Errorf("getrlimit %s: %w", s.name, err)
		}
		// Never raise a limit the parent was already given.
		lim := syscall.Rlimit{Cur: min(s.cur, old.Max), Max: min(s.hard, old.Max)}
		if err := syscall.Setrlimit(s.res, &lim); err != nil {
			return fmt.Errorf("setrlimit %s: %w", s.name, err)
		}
	}
	return nil
}

// addressSpace is the size of this process's address space in bytes (Linux: the
// first field of /proc/self/statm, in pages).
func addressSpace() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("address space: %w", err)
	}
	f, _, _ := bytes.Cut(b, []byte(" "))
	pages, err := strconv.ParseInt(string(f), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("address space: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}

// peakRSS is this process's peak resident memory in bytes (Linux: VmHWM of
// /proc/self/status), or 0 when unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("VmHWM:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}
