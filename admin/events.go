package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// serveEvents hands POST /events/* to Deps.Events (the functions' CloudEvents
// receiver), or answers 501 when none is configured.
func (s *Server) serveEvents(c *gin.Context) {
	if s.events == nil {
		fail(c, newError(http.StatusNotImplemented, CodeNotImplemented, ReasonEventsUnavailable,
			"this server has no CloudEvents handler"))
		return
	}
	s.events.ServeHTTP(c.Writer, c.Request)
}
