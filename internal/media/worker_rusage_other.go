//go:build unix && !linux

package media

import "syscall"

// maxRSSBytes is ru_maxrss in bytes (macOS and the BSDs report bytes).
func maxRSSBytes(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) }
