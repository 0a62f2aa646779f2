package admin

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/model"
)

// readyTimeout bounds each readiness probe.
const readyTimeout = 2 * time.Second

// readyProbeUID is looked up in Auth by /readyz: "not found" proves the
// backend answers. It is a valid uid no real account is given.
const readyProbeUID = "hearth-readyz-probe"

// healthz answers 200 while the process serves HTTP: a liveness probe that
// checks nothing else, so a slow backend never gets the process restarted.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyResponse is the body of /readyz.
type readyResponse struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyz answers 200 when Firestore and Auth both answered within
// readyTimeout at the last check, else 503 with the failing checks; 503 also
// while shutting down, so load balancers drain the instance. The probe is
// unauthenticated, so the checks are not run for every probe: their result is
// reused for cfg.ReadyCacheTTL (see readyChecks).
func (s *Server) readyz(c *gin.Context) {
	results := s.readyChecks(c.Request.Context())
	checks := make(map[string]string, len(results)+1)
	ok := true
	for name, err := range results {
		if err != nil {
			ok = false
			checks[name] = "unavailable"
		} else {
			checks[name] = "ok"
		}
	}
	if s.draining.Load() {
		ok = false
		checks["server"] = "shutting down"
	}
	if !ok {
		c.Header("Retry-After", "1")
		c.JSON(http.StatusServiceUnavailable, readyResponse{Status: "unavailable", Checks: checks})
		return
	}
	c.JSON(http.StatusOK, readyResponse{Status: "ok", Checks: checks})
}

// readyCache is the last dependency check of /readyz.
type readyCache struct {
	mu      sync.Mutex // held while a check runs: concurrent probes wait for its result
	at      time.Time  // when the last check ran; zero before the first
	results map[string]error
}

// readyChecks returns the result of each dependency check (nil: ok), run at
// most once per cfg.ReadyCacheTTL whatever the number of probes. A check runs
// detached from the probe that started it (a probe that hangs up must not
// cache a failure), bounded by readyTimeout.
func (s *Server) readyChecks(ctx context.Context) map[string]error {
	rc := &s.ready
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ttl := s.cfg.ReadyCacheTTL; ttl > 0 && !rc.at.IsZero() {
		if age := s.clock.Now().Sub(rc.at); age >= 0 && age < ttl {
			return rc.results
		}
	}
	ctx = context.WithoutCancel(ctx)
	type result struct {
		name string
		err  error
	}
	done := make(chan result, 2)
	go func() { done <- result{"firestore", s.checkFirestore(ctx)} }()
	go func() { done <- result{"auth", s.checkAuth(ctx)} }()
	results := make(map[string]error, 2)
	for range 2 {
		r := <-done
		results[r.name] = r.err
		if r.err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "check", r.name, "error", r.err)
		}
	}
	rc.at, rc.results = s.clock.Now(), results
	return results
}

// checkFirestore reads at most one audit entry: any answer, even an empty
// one, proves Firestore serves the project.
func (s *Server) checkFirestore(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	it := s.fs.Collection(model.AuditLogCollection).Limit(1).Documents(ctx)
	defer it.Stop()
	if _, err := it.Next(); err != nil && !errors.Is(err, iterator.Done) {
		return err
	}
	return nil
}

// checkAuth looks up a uid that does not exist; "user not found" is the
// healthy answer.
func (s *Server) checkAuth(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.auth.GetUser(ctx, readyProbeUID)
		if err == nil || auth.IsUserNotFound(err) {
			err = nil
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
