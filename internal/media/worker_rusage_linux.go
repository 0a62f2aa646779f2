package media

import "syscall"

// maxRSSBytes is ru_maxrss in bytes (Linux reports kilobytes).
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }
