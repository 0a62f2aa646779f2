package admin

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/cloudlog"
)

// accessLogMiddleware writes one structured line per request: the route
// pattern, the request id, the caller's uid, the error reason, and Cloud
// Logging's httpRequest (method, path without its query string, status,
// size, latency, user agent, client IP, protocol) — never headers
// (Authorization, X-Firebase-AppCheck) or query strings, so tokens cannot
// leak into logs whatever a client sends.
//
// A request that carries a trace (traceparent or X-Cloud-Trace-Context) has it in
// its context from here on, so this line and every line logged for the request
// are correlated with the trace in Cloud Logging (internal/cloudlog); the line
// also carries Cloud Logging's httpRequest.
func (s *Server) accessLogMiddleware(c *gin.Context) {
	start := s.clock.Now()
	if t, ok := cloudlog.TraceFromHeader(c.Request.Header); ok {
		c.Request = c.Request.WithContext(cloudlog.ContextWithTrace(c.Request.Context(), t))
	}
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch {
	case status < 400 && isProbe(c):
		// Probes and scrapes every few seconds would drown the log.
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	ctx := c.Request.Context()
	h := s.access.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	// The request itself is Cloud Logging's httpRequest (method, path, status,
	// size, latency, user agent, client IP, protocol); the line adds only what
	// httpRequest has no field for. On the stack: 4 attributes at most.
	var buf [4]slog.Attr
	attrs := append(buf[:0],
		slog.String("route", routeLabel(c)),
		slog.String("requestId", requestID(c)),
	)
	if p := principalOf(c); p != nil {
		attrs = append(attrs, slog.String("uid", p.UID))
	}
	if code := c.GetString(ctxErrorReason); code != "" {
		attrs = append(attrs, slog.String("reason", code))
	}
	req := cloudlog.NewRequest(c.Request, status, int64(max(c.Writer.Size(), 0)), s.clock.Now().Sub(start), c.ClientIP())
	// Straight to the handler, without the caller's program counter: a
	// Logger would walk the stack on every request for a source location that
	// is always this line. cloudlog.LogRequest writes what LogAttrs would,
	// without building the record when the handler is Cloud Logging's.
	_ = cloudlog.LogRequest(ctx, h, time.Now(), level, "request", attrs, &req)
}

// routeLabel is the matched route pattern ("/v1/rooms/:roomId"), or
// "unmatched" for 404s, so logs and metrics never carry arbitrary paths as
// labels.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// isProbe reports the ops routes that load balancers and Prometheus poll.
func isProbe(c *gin.Context) bool {
	switch c.FullPath() {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}
