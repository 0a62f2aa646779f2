package emulator_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/emulator/emutest"
)

// watchdogParentEnv makes the test binary act as a hearth that starts a child the macOS way
// (own process group, no parent-death signal, a watchdog) and then waits to be killed.
const watchdogParentEnv = "HEARTH_TEST_WATCHDOG_PARENT"

func TestMain(m *testing.M) {
	if os.Getenv(watchdogParentEnv) == "1" {
		os.Exit(runWatchdogParent())
	}
	os.Exit(m.Run())
}

// runWatchdogParent starts `sleep` in a group of its own guarded by the watchdog, prints
// the child's pid (its group id) and waits until it is killed or its stdin ends.
func runWatchdogParent() int {
	child := exec.Command("sleep", "600")
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start sleep:", err)
		return 1
	}
	release, err := emulator.StartWatchdog(child.Process.Pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start watchdog:", err)
		return 1
	}
	fmt.Printf("%d\n", child.Process.Pid)
	_, _ = io.Copy(io.Discard, os.Stdin) // the test holds stdin open and kills us first
	release()
	return 0
}

// groupMembers lists the live (not zombie) processes of group pgid from /proc.
func groupMembers(pgid int) ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var live []string
	for _, e := range entries {
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // not a process, or gone meanwhile
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
		s := string(raw)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if f[2] == fmt.Sprint(pgid) {
			live = append(live, e.Name()+" "+strings.TrimSpace(s[:i+1]))
		}
	}
	return live, nil
}

// TestWatchdogStopsGroupWhenParentIsKilled checks what macOS relies on instead of Pdeathsig:
// when the process that started a child is killed with SIGKILL, nothing of the child's
// process group survives it.
func TestWatchdogStopsGroupWhenParentIsKilled(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), watchdogParentEnv+"=1")
	parent.Stderr = os.Stderr
	stdin, err := parent.StdinPipe() // open until the parent is killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	var pgid int
	select {
	case s := <-line:
		if _, err := fmt.Sscan(s, &pgid); err != nil {
			t.Fatalf("parent printed %q, want the child's pid (%v)", s, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("parent printed no child pid within 30 s")
	}
	live, err := groupMembers(pgid)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 {
		t.Fatalf("group %d before the kill = %q, want sleep and the watchdog", pgid, live)
	}

	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	emutest.Eventually(t, 10*time.Second, func() error {
		live, err := groupMembers(pgid)
		if err != nil {
			return err
		}
		if len(live) > 0 {
			return fmt.Errorf("group %d outlived its killed parent: %q", pgid, live)
		}
		return nil
	})
}
