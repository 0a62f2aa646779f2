//go:build unix

package emulator

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f, waiting for other holders; unlock releases it.
func lockFile(f *os.File) (unlock func(), err error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
