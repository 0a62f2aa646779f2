//go:build !unix

package media

import "syscall"

// maxRSSBytes: no ru_maxrss here.
func maxRSSBytes(*syscall.Rusage) int64 { return 0 }
