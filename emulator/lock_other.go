//go:build !unix

package emulator

import "os"

// lockFile refuses: the suite runs on Linux and macOS only.
func lockFile(*os.File) (unlock func(), err error) { return nil, ErrUnsupportedOS }
