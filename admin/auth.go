package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/revocation"
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
	// grant-admin` or PUT /admin/v1/users/{uid}/claims). On /admin/v1 it is
	// the account's live claim, read from Firebase Auth on every request;
	// elsewhere it is the token's.
	Admin          bool
	SignInProvider string
	// Claims are the token's claims other than the registered JWT ones.
	Claims map[string]any
	// RevocationChecked says whether Firebase Auth itself was asked whether
	// the token was revoked or the user disabled (not only the markers).
	RevocationChecked bool
	// issuedAt and authTime are the token's iat and auth_time (Unix s).
	issuedAt, authTime int64
}

const ctxPrincipal = "hearth.principal"

// principalOf returns the request's verified caller, or nil before (or
// without) authentication.
func principalOf(c *gin.Context) *Principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(*Principal)
	return pr
}

// Revocations are the per-user revocation markers (internal/revocation):
// Hearth writes one whenever it disables, erases, revokes the tokens of or
// changes the claims of a user, and every instance holds all of them in
// memory. *revocation.Markers implements it.
type Revocations interface {
	// Revoke writes uid's marker with the server's time and knows it here
	// at once.
	Revoke(ctx context.Context, uid string, reason revocation.Reason) (time.Time, error)
	// RevokedAt is uid's newest marker known here.
	RevokedAt(uid string) (time.Time, bool)
	// Fresh reports whether the markers in memory are current (see
	// revocation.Markers.Fresh for the bound).
	Fresh() bool
	// Loaded reports whether the markers were ever read (a poll
	// succeeded).
	Loaded() bool
	// OnRevoke calls f with the uid of every new marker.
	OnRevoke(f func(uid string))
	// Run keeps the markers current until ctx ends.
	Run(ctx context.Context) error
}

// stalePolicy is what a route does when the revocation markers in memory
// are not current (Revocations.Fresh is false: Firestore could not be
// polled for revocation.DefaultStaleAfter).
type stalePolicy bool

// Revocation policy. Every authenticated route verifies the token's
// signature, audience, issuer and expiry locally (no RPC on the production
// path once the Google keys are cached; a token that verified is cached
// until it expires, tokencache.go), then refuses it when Hearth has revoked
// the user's sessions since the token's session began: the marker
// revocations/{uid}, held in memory (revocation.Markers), against the
// token's auth_time. That is the check the Firestore and Storage rules make
// too, so the API and direct client access agree, and it costs a request no
// round trip: the markers are re-read every second by every instance.
//
//   - /v1 writes (POST, PUT, PATCH, DELETE) ask Firebase Auth as well
//     (VerifyIDTokenAndCheckRevoked, one accounts:lookup RPC) only while the
//     markers are not current, so a revocation is never missed for longer
//     than revocation.DefaultStaleAfter on any instance;
//   - /v1 reads use the markers as they are (a Firestore outage does not
//     turn every read into an Auth RPC), once they were read at all: until
//     the first poll succeeds the instance knows no marker, and every
//     route asks Firebase Auth;
//   - /admin/v1 reads the caller's account from Firebase Auth on every
//     request (requireAdmin): its live admin claim, disabled flag and
//     revocation time decide, not the token's claim.
//
// Markers are written only by Hearth. A user disabled or deleted, or whose
// tokens were revoked, outside Hearth (the Firebase console) is caught by
// /admin/v1 at once, by /v1 writes only while the markers are stale, and
// otherwise only when the ID token expires (at most an hour).
const (
	tolerateStale stalePolicy = false
	authWhenStale stalePolicy = true
)

// authenticate verifies the Bearer ID token within cfg.AuthTimeout, checks
// it against the revocation markers and stores the Principal. Failures are
// 401 UNAUTHENTICATED with a reason (TOKEN_MISSING, TOKEN_INVALID,
// TOKEN_EXPIRED, TOKEN_REVOKED, USER_DISABLED, USER_NOT_FOUND); an
// unreachable Auth backend or key endpoint is 503 UNAVAILABLE
// (AUTH_BACKEND_UNAVAILABLE), never a hang.
func (s *Server) authenticate(policy stalePolicy) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, ok := bearerToken(c.GetHeader("Authorization"))
		askAuth := bool(policy) && !s.revocations.Fresh() || !s.revocations.Loaded()
		if !ok {
			s.metrics.authResult.WithLabelValues(ReasonTokenMissing, boolLabel(askAuth)).Inc()
			fail(c, errUnauthenticated(ReasonTokenMissing, "missing Authorization: Bearer <Firebase ID token>"))
			return
		}
		tok, err := s.verifyToken(c.Request.Context(), raw, askAuth)
		if err == nil {
			err = s.checkMarker(tok)
		}
		if err != nil {
			ae := authError(err)
			s.metrics.authResult.WithLabelValues(ae.reason, boolLabel(askAuth)).Inc()
			if ae.status >= 500 {
				s.log.WarnContext(c.Request.Context(), "token verification unavailable",
					"requestId", requestID(c), "error", err)
			}
			fail(c, ae)
			return
		}
		s.metrics.authOK[boolIndex(askAuth)].Inc()
		p := &Principal{UID: tok.UID, Claims: tok.Claims, SignInProvider: tok.Firebase.SignInProvider,
			RevocationChecked: askAuth, issuedAt: tok.IssuedAt, authTime: tok.AuthTime}
		p.Email, _ = tok.Claims["email"].(string)
		p.Admin, _ = tok.Claims["admin"].(bool)
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

// errMarkerRevoked is a token older than its user's revocation marker.
var errMarkerRevoked = errors.New("the session was revoked by Hearth (revocation marker)")

// checkMarker refuses a token whose session began no later than its user's
// revocation marker (revocation.Revoked).
func (s *Server) checkMarker(tok *auth.Token) error {
	if at, ok := s.revocations.RevokedAt(tok.UID); ok && revocation.Revoked(tok.AuthTime, at) {
		return errMarkerRevoked
	}
	return nil
}

// requireAdmin lets only callers whose account has the custom claim
// admin: true now through. It reads the account from Firebase Auth (one
// accounts:lookup per admin request; admin traffic is small), so a
// demotion, a disabled account or revoked tokens bite on the next request,
// wherever they were made — also outside Hearth. The token's own admin
// claim does not matter here.
func (s *Server) requireAdmin(c *gin.Context) {
	p := principalOf(c)
	if p == nil {
		fail(c, errDenied(ReasonAdminRequired, "this route needs the custom claim admin: true"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.AuthTimeout)
	defer cancel()
	u, err := s.auth.GetUser(ctx, p.UID)
	switch {
	case err != nil:
		fail(c, authError(err))
		return
	case u.Disabled:
		fail(c, errUnauthenticated(ReasonUserDisabled, "the user account is disabled"))
		return
	case p.issuedAt*1000 < u.TokensValidAfterMillis:
		fail(c, errUnauthenticated(ReasonTokenRevoked, "the ID token has been revoked; sign in again"))
		return
	}
	if admin, _ := u.CustomClaims["admin"].(bool); !admin {
		fail(c, errDenied(ReasonAdminRequired, "this route needs the custom claim admin: true"))
		return
	}
	p.Admin, p.RevocationChecked = true, true
	c.Next()
}

// verifyToken verifies raw, from the token cache unless askAuth (then
// Firebase Auth is asked about revocation and the disabled flag, and the
// result refreshes the cache). Verification runs under cfg.AuthTimeout. The
// SDK
// honours the context in its HTTP calls, but its key cache waits on a mutex
// without one; running it in a goroutine bounds the wait in every case. A
// verification that outlives the deadline finishes in the background and
// its result is dropped.
func (s *Server) verifyToken(ctx context.Context, raw string, checkRevoked bool) (*auth.Token, error) {
	if !checkRevoked && s.tokens != nil {
		if tok, ok := s.tokens.get(raw); ok {
			s.metrics.cacheHit.Inc()
			return tok, nil
		}
		s.metrics.cacheMiss.Inc()
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
	case auth.IsIDTokenRevoked(err), errors.Is(err, errMarkerRevoked):
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

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
