package admin

import (
	"context"
	"errors"
	"net/http"
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

// readyz answers 200 when Firestore and Auth both answer within
// readyTimeout, else 503 with the failing checks; 503 also while shutting
// down, so load balancers drain the instance.
func (s *Server) readyz(c *gin.Context) {
	ctx := c.Request.Context()
	checks := map[string]string{}
	type result struct {
		name string
		err  error
	}
	results := make(chan result, 2)
	go func() { results <- result{"firestore", s.checkFirestore(ctx)} }()
	go func() { results <- result{"auth", s.checkAuth(ctx)} }()
	ok := true
	for range 2 {
		r := <-results
		if r.err != nil {
			ok = false
			checks[r.name] = "unavailable"
			s.log.WarnContext(ctx, "readiness check failed", "check", r.name, "error", r.err)
		} else {
			checks[r.name] = "ok"
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
