package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// ErrUnsupportedOS is returned where the local suite cannot run: it needs process groups,
// file locks and a way to stop children that outlive a killed parent (docs/emulators.md).
var ErrUnsupportedOS = errors.New("hearth's local suite needs Linux or macOS (on Windows, run it inside WSL 2)")

// process is one child of the suite (java or node), run in its own process group so that a
// stop reaches every process it spawned: the Firestore emulator's wrapper script and npx
// both leave orphans when only their own pid is signalled.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error
	release func() // ends what startGroup set up to stop the group with hearth
}

// startProcess starts argv with its output in logPath.
func startProcess(name, dir string, env []string, logPath string, argv ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: create log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// In its own process group, so one signal stops the whole tree; and stopped with hearth
	// even when hearth is killed with SIGKILL (process_linux.go, process_unix.go).
	release, err := startGroup(cmd)
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, argv[0], err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{}), release: release}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id (also the process group id).
func (p *process) Pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace, and waits for exit.
func (p *process) stop(grace time.Duration) error {
	defer p.release()
	if p.exited() {
		return nil
	}
	pgid := p.cmd.Process.Pid
	signalGroup(pgid, false)
	select {
	case <-p.done:
	case <-time.After(grace):
		signalGroup(pgid, true)
		<-p.done
	}
	// Whatever the leader did, nothing of its group may outlive the suite.
	signalGroup(pgid, true)
	return nil
}

// tail returns the last n lines of the process log, for error messages.
func (p *process) tail(n int) string {
	raw, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return lastLines(raw, n)
}

// ErrDied is wrapped by errors for a child that exited while the suite was starting.
var ErrDied = errors.New("emulator exited during start")

// waitHTTP polls url until it answers 200, the process dies, or the context ends. Polling
// is the readiness check here: neither emulator announces readiness in any other way.
func (p *process) waitHTTP(ctx context.Context, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s: %w (%v); last lines of %s:\n%s", p.name, ErrDied, p.waitErr, p.logPath, p.tail(25))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w; last lines of %s:\n%s", p.name, url, ctx.Err(), p.logPath, p.tail(25))
		case <-tick.C:
		}
	}
}

// lastLines keeps the tail of a command's combined output for error messages.
func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
