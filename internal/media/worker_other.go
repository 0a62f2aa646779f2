//go:build !unix

package media

import (
	"errors"
	"runtime"
)

// applyWorkerLimits: there is no setrlimit here, and a worker without limits is not
// isolated, so media processing refuses to run (Hearth's media worker needs Linux or
// another Unix).
func applyWorkerLimits(workerLimits) error {
	return errors.New("no resource limits on " + runtime.GOOS + ": the media worker needs Linux or another Unix")
}

// peakRSS is unknown here.
func peakRSS() int64 { return 0 }
