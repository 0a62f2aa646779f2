package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"
)

// TokenVerifier verifies Firebase ID tokens; *auth.Client implements it.
type TokenVerifier interface {
	VerifyIDToken(ctx context.Context, idToken string) (*auth.Token, error)
	VerifyIDTokenAndCheckRevoked(ctx context.Context, idToken string) (*auth.Token, error)
}

// Principal is the verified caller of a request.
type Principal struct {
	UID   string
	Email string
	// Admin is the custom claim admin: true (set by `hearth users
	// grant-admin` or PUT /admin/v1/users/{uid}/claims).
	Admin          bool
	SignInProvider string
	// Claims are the token's claims other than the registered JWT ones.
	Claims map[string]any
	// RevocationChecked says whether the token was checked against the Auth
	// backend's revocation time and disabled flag.
	RevocationChecked bool
}

const ctxPrincipal = "hearth.principal"

// principalOf returns the request's verified caller, or nil before (or
// without) authentication.
func principalOf(c *gin.Context) *Principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(*Principal)
	return pr
}

// revocation is whether a route checks ID tokens for revocation.
type revocation bool

// Revocation policy. Every authenticated route verifies the token's
// signature, audience, issuer and expiry locally (no RPC on the production
// path once the Google keys are cached). The routes below additionally ask
// the Auth backend whether the token was revoked or the user disabled or
// deleted (one accounts:lookup RPC, about 1 ms in the same region):
//
//   - every /admin/v1 route: an admin whose account was compromised must
//     lose these powers the moment their tokens are revoked, not up to an
//     hour later when the ID token expires;
//   - every state-changing /v1 route (POST, PUT, PATCH, DELETE): room
//     creation and membership changes (a revoked token must not add its
//     holder to rooms, change roles or ban), device registration (a stolen
//     token must not route the victim's push notifications to an attacker's
//     device) and uploads.
//
// Reads (GET /v1/...) do not check revocation. The same ID token reads the
// same data directly from Firestore, whose security rules cannot check
// revocation either, so an RPC per read would cost latency and Auth quota on
// the hottest routes without closing anything. For the same reason reads
// may answer from the token cache (tokencache.go): a token that verified
// stays good for reads until it expires. (In emulator mode the Admin SDK
// makes the lookup on every verification, so there a read also sees
// revocation — until the token is cached.)
const (
	skipRevocation  revocation = false
	checkRevocation revocation = true
)

// authenticate verifies the Bearer ID token within cfg.AuthTimeout and
// stores the Principal. Failures are 401 UNAUTHENTICATED with a reason
// (TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED,
// USER_DISABLED, USER_NOT_FOUND); an unreachable Auth backend or key
// endpoint is 503 UNAVAILABLE (AUTH_BACKEND_UNAVAILABLE), never a hang.
func (s *Server) authenticate(check revocation) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			s.metrics.authResult.WithLabelValues(ReasonTokenMissing, boolLabel(bool(check))).Inc()
			fail(c, errUnauthenticated(ReasonTokenMissing, "missing Authorization: Bearer <Firebase ID token>"))
			return
		}
		tok, err := s.verifyToken(c.Request.Context(), raw, bool(check))
		if err != nil {
			ae := authError(err)
			s.metrics.authResult.WithLabelValues(ae.reason, boolLabel(bool(check))).Inc()
			if ae.status >= 500 {
				s.log.WarnContext(c.Request.Context(), "token verification unavailable",
					"requestId", requestID(c), "error", err)
			}
			fail(c, ae)
			return
		}
		s.metrics.authResult.WithLabelValues("ok", boolLabel(bool(check))).Inc()
		p := &Principal{UID: tok.UID, Claims: tok.Claims, SignInProvider: tok.Firebase.SignInProvider,
			RevocationChecked: bool(check)}
		p.Email, _ = tok.Claims["email"].(string)
		p.Admin, _ = tok.Claims["admin"].(bool)
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

// requireAdmin lets only callers with the custom claim admin: true through.
func requireAdmin(c *gin.Context) {
	if p := principalOf(c); p == nil || !p.Admin {
		fail(c, errDenied(ReasonAdminRequired, "this route needs the custom claim admin: true"))
		return
	}
	c.Next()
}

// verifyToken verifies raw, from the token cache when the route does not
// check revocation (see tokenCache). Verification runs under
// cfg.AuthTimeout. The SDK
// honours the context in its HTTP calls, but its key cache waits on a mutex
// without one; running it in a goroutine bounds the wait in every case. A
// verification that outlives the deadline finishes in the background and
// its result is dropped.
func (s *Server) verifyToken(ctx context.Context, raw string, checkRevoked bool) (*auth.Token, error) {
	if !checkRevoked && s.tokens != nil {
		if tok, ok := s.tokens.get(raw); ok {
			return tok, nil
		}
	}
	tok, err := s.verifyTokenNow(ctx, raw, checkRevoked)
	if err == nil && s.tokens != nil {
		s.tokens.put(raw, tok)
	}
	return tok, err
}

func (s *Server) verifyTokenNow(ctx context.Context, raw string, checkRevoked bool) (*auth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AuthTimeout)
	defer cancel()
	type result struct {
		tok *auth.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if checkRevoked {
			r.tok, r.err = s.verifier.VerifyIDTokenAndCheckRevoked(ctx, raw)
		} else {
			r.tok, r.err = s.verifier.VerifyIDToken(ctx, raw)
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.tok, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// authError maps a verification error to the response. The SDK's predicates
// are checked most specific first: an expired, revoked or disabled token is
// also "invalid", and a deleted user's token is not.
func authError(err error) *apiError {
	var ae *apiError
	switch {
	case auth.IsIDTokenExpired(err):
		ae = errUnauthenticated(ReasonTokenExpired, "the ID token has expired; refresh it")
	case auth.IsIDTokenRevoked(err):
		ae = errUnauthenticated(ReasonTokenRevoked, "the ID token has been revoked; sign in again")
	case auth.IsUserDisabled(err):
		ae = errUnauthenticated(ReasonUserDisabled, "the user account is disabled")
	case auth.IsUserNotFound(err):
		ae = errUnauthenticated(ReasonUserNotFound, "the user account does not exist")
	case auth.IsIDTokenInvalid(err), auth.IsTenantIDMismatch(err):
		ae = errUnauthenticated(ReasonTokenInvalid, "the ID token is invalid")
	case errors.Is(err, context.Canceled):
		ae = newError(499, CodeUnavailable, ReasonAuthUnavailable, "request canceled")
	default:
		// Deadline exceeded, connection refused, key endpoint down: the
		// client should retry, not sign out.
		ae = newError(http.StatusServiceUnavailable, CodeUnavailable, ReasonAuthUnavailable,
			"cannot verify the ID token right now; try again")
		ae.retryAfterSeconds = 1
	}
	ae.cause = err
	return ae
}

// bearerToken extracts the token of "Bearer <token>" (scheme
// case-insensitive, as RFC 7235 says).
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
