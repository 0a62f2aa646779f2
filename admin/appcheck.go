package admin

import (
	"fmt"

	"firebase.google.com/go/v4/appcheck"
	"github.com/gin-gonic/gin"
)

// AppCheckHeader carries the Firebase App Check token.
const AppCheckHeader = "X-Firebase-AppCheck"

// AppCheckVerifier verifies App Check tokens; *appcheck.Client implements
// it.
type AppCheckVerifier interface {
	VerifyToken(token string) (*appcheck.DecodedAppCheckToken, error)
}

const ctxAppID = "hearth.appCheckAppId"

// appCheckMiddleware applies cfg.AppCheck to the client routes: off does
// nothing; monitor verifies a present token and logs and counts missing or
// invalid ones but lets the request through; enforce answers 401
// UNAUTHENTICATED (APP_CHECK_TOKEN_MISSING or APP_CHECK_TOKEN_INVALID).
// It runs before the ID token check so an unattested client costs no Auth
// RPC. The admin routes do not use it: admin tools are web consoles and
// scripts, not attested apps, and they need the admin claim anyway.
func (s *Server) appCheckMiddleware(c *gin.Context) {
	mode := s.cfg.AppCheck
	if mode == AppCheckOff {
		c.Next()
		return
	}
	result, err := s.checkAppToken(c)
	s.metrics.appCheck.WithLabelValues(string(mode), result).Inc()
	if err != nil {
		if mode == AppCheckEnforce {
			fail(c, err)
			return
		}
		s.log.WarnContext(c.Request.Context(), "app check failed (monitor mode)",
			"requestId", requestID(c), "route", c.FullPath(), "result", result, "error", err)
	}
	c.Next()
}

// checkAppToken verifies the header and returns the metric result.
func (s *Server) checkAppToken(c *gin.Context) (result string, err error) {
	raw := c.GetHeader(AppCheckHeader)
	if raw == "" {
		return "missing", errUnauthenticated(ReasonAppCheckMissing, "missing %s header", AppCheckHeader)
	}
	tok, err := s.verifyAppToken(raw)
	if err != nil {
		return "invalid", errUnauthenticated(ReasonAppCheckInvalid, "the App Check token is invalid").withCause(err)
	}
	c.Set(ctxAppID, tok.AppID)
	return "ok", nil
}

// verifyAppToken calls the verifier, turning a panic into an error: the
// SDK's VerifyToken type-asserts claims without checking (an "aud" that is a
// string, not a list, panics), and only a correctly signed token reaches
// that code, but a verifier must never take the server down.
func (s *Server) verifyAppToken(raw string) (tok *appcheck.DecodedAppCheckToken, err error) {
	defer func() {
		if r := recover(); r != nil {
			tok, err = nil, fmt.Errorf("app check verifier panicked: %v", r)
		}
	}()
	return s.appCheck.VerifyToken(raw)
}
