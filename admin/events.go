package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/oidc"
)

// ReasonCallerNotAllowed refines 403 on /events and /schedulers: a valid
// Google token of a service account that is not allowed to call.
const ReasonCallerNotAllowed = "CALLER_NOT_ALLOWED"

// CallerVerifier checks the OIDC ID token of a request to the event and
// scheduler routes; *oidc.Verifier implements it. Its errors wrap
// oidc.ErrNoToken, oidc.ErrInvalidToken or oidc.ErrForbidden.
type CallerVerifier interface {
	Verify(ctx context.Context, r *http.Request) (oidc.Caller, error)
}

// machineRoutes answers 404, as for a route that does not exist, unless
// Config.Events is on: a server that is not the events service does not
// reveal that it could be one.
func (s *Server) machineRoutes(c *gin.Context) {
	if !s.cfg.Events {
		fail(c, errNotFound("no route %s %s", c.Request.Method, c.Request.URL.Path))
		return
	}
	c.Next()
}

// verifyCaller lets through only requests with a Google-signed OIDC token of
// an allowed service account (Config.EventsAudiences,
// EventsServiceAccounts): 401 without a valid token, 403 for another
// account. It reads no body.
func (s *Server) verifyCaller(c *gin.Context) {
	_, err := s.callers.Verify(c.Request.Context(), c.Request)
	switch {
	case err == nil:
		c.Next()
	case errors.Is(err, oidc.ErrNoToken):
		fail(c, errUnauthenticated(ReasonTokenMissing, "an OIDC ID token of an allowed service account is required"))
	case errors.Is(err, oidc.ErrForbidden):
		s.log.WarnContext(c.Request.Context(), "events caller not allowed", "path", c.Request.URL.Path, "err", err)
		fail(c, errDenied(ReasonCallerNotAllowed, "this service account may not call %s", c.FullPath()))
	default:
		s.log.WarnContext(c.Request.Context(), "events caller token refused", "path", c.Request.URL.Path, "err", err)
		fail(c, errUnauthenticated(ReasonTokenInvalid, "the OIDC ID token is not valid for this service"))
	}
}

// serveEvents hands POST /events/* to Deps.Events (the functions' CloudEvents
// receiver and the storage notifications), or answers 501 when none is
// configured.
func (s *Server) serveEvents(c *gin.Context) {
	if s.events == nil {
		fail(c, newError(http.StatusNotImplemented, CodeNotImplemented, ReasonEventsUnavailable,
			"this server has no CloudEvents handler"))
		return
	}
	s.events.ServeHTTP(c.Writer, c.Request)
}

// serveSchedulers hands POST /schedulers/{name} to Deps.Schedulers, or
// answers 501 when none is configured.
func (s *Server) serveSchedulers(c *gin.Context) {
	if s.sched == nil {
		fail(c, newError(http.StatusNotImplemented, CodeNotImplemented, ReasonEventsUnavailable,
			"this server has no scheduler handler"))
		return
	}
	s.sched.ServeHTTP(c.Writer, c.Request)
}
