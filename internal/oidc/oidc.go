// Package oidc checks who is calling Hearth's machine-to-machine routes (/events/* and
// /schedulers/*): Eventarc, Pub/Sub push subscriptions and Cloud Scheduler each send a
// Google-signed OIDC ID token of a service account in "Authorization: Bearer". A request
// passes only when the token is signed by Google's service-account keys
// (google.golang.org/api/idtoken verifies the signature, the audience and the expiry),
// its issuer is Google's, its audience is one of the configured service URLs, and its
// verified email is one of the allowed service accounts.
//
// Nothing else is trusted: not the network the request came from, not a header a proxy
// may have added, not the event it carries.
package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"
)

// Issuers are the two spellings of Google's issuer in ID tokens.
var Issuers = []string{"accounts.google.com", "https://accounts.google.com"}

// GoogleCertsURL is where google.golang.org/api/idtoken fetches the public keys of
// Google's service-account ID tokens (a JWKS).
const GoogleCertsURL = "https://www.googleapis.com/oauth2/v3/certs"

// MaxTokenBytes bounds the token a request may carry. Google's service-account ID tokens
// are about 1 KB; anything much larger is not one and is refused before it is decoded.
const MaxTokenBytes = 8 << 10

// maxFutureIssue is how far in the future a token's iat may lie (clock skew).
const maxFutureIssue = 5 * time.Minute

// Errors of Verify. ErrNoToken and ErrInvalidToken mean "who are you?" (401);
// ErrForbidden means a valid Google token of an account that may not call (403).
var (
	ErrNoToken      = errors.New("oidc: no bearer token")
	ErrInvalidToken = errors.New("oidc: invalid token")
	ErrForbidden    = errors.New("oidc: caller not allowed")
)

// Config says which tokens are accepted.
type Config struct {
	// Audiences are the accepted "aud" values: the URL of the service as the callers
	// address it (Eventarc and Cloud Run use the service URL, Cloud Scheduler and
	// Pub/Sub push the audience given when the job or subscription was created).
	// Required.
	Audiences []string
	// ServiceAccounts are the service-account emails allowed to call (the token's
	// "email" claim, which must also be verified). Required.
	ServiceAccounts []string
}

// Validate reports a missing audience or allow-list and malformed entries.
func (c Config) Validate() error {
	var errs []error
	if len(c.Audiences) == 0 {
		errs = append(errs, errors.New("oidc: at least one audience (the service URL) is required"))
	}
	for _, a := range c.Audiences {
		if strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t\r\n") {
			errs = append(errs, fmt.Errorf("oidc: audience %q is empty or has spaces", a))
		}
	}
	if len(c.ServiceAccounts) == 0 {
		errs = append(errs, errors.New("oidc: at least one allowed service account is required"))
	}
	for _, sa := range c.ServiceAccounts {
		if a, err := mail.ParseAddress(sa); err != nil || a.Address != sa || a.Name != "" {
			errs = append(errs, fmt.Errorf("oidc: service account %q is not an email address", sa))
		}
	}
	return errors.Join(errs...)
}

// Deps are the Verifier's collaborators.
type Deps struct {
	// HTTPClient fetches Google's public keys (https://www.googleapis.com/oauth2/v3/certs,
	// cached as its Cache-Control says). Default: an unauthenticated client of
	// google.golang.org/api. Tests give a client whose transport serves local keys.
	HTTPClient *http.Client
	// KeysURL, when set, is where the keys are fetched instead of GoogleCertsURL: the
	// JWKS of a local issuer, for a demo project's production-shaped test. Only where
	// the keys come from changes; every check of VerifyToken stays, the issuer
	// included. Production leaves it empty (callers allow it for demo projects only).
	// HTTPClient, if set, is the client that fetches it.
	KeysURL string
}

// Caller is a verified caller.
type Caller struct {
	// Email is the service account's email.
	Email string
	// Subject is the account's unique id ("sub").
	Subject string
	// Audience is the audience the token was issued for.
	Audience string
}

// Verifier checks OIDC ID tokens. It is safe for concurrent use.
type Verifier struct {
	cfg       Config
	validator *idtoken.Validator
}

// New validates cfg and returns a Verifier. It does no I/O: keys are fetched on the
// first request.
func New(ctx context.Context, cfg Config, deps Deps) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var opts []idtoken.ClientOption
	hc := deps.HTTPClient
	if deps.KeysURL != "" {
		u, err := url.Parse(deps.KeysURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("oidc: keys URL %q: want an http(s) URL", deps.KeysURL)
		}
		hc = keysFrom(u, hc)
	}
	if hc != nil {
		opts = append(opts, option.WithHTTPClient(hc))
	}
	v, err := idtoken.NewValidator(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: token validator: %w", err)
	}
	own := Config{Audiences: slices.Clone(cfg.Audiences)}
	for _, sa := range cfg.ServiceAccounts {
		own.ServiceAccounts = append(own.ServiceAccounts, strings.ToLower(sa))
	}
	return &Verifier{cfg: own, validator: v}, nil
}

// keysFrom returns a client that fetches GoogleCertsURL from keys (through base, or a
// default client) and refuses every other URL: idtoken asks for nothing else that a
// local issuer can answer, and a request that would reach Google must not leave.
func keysFrom(keys *url.URL, base *http.Client) *http.Client {
	if base == nil {
		base = &http.Client{Timeout: 10 * time.Second}
	}
	inner := base.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	c := *base
	c.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.String() != GoogleCertsURL {
			return nil, fmt.Errorf("oidc: %s is not fetched when the keys come from %s", r.URL.Redacted(), keys.Redacted())
		}
		r = r.Clone(r.Context())
		u := *keys
		r.URL, r.Host = &u, u.Host
		return inner.RoundTrip(r)
	})
	return &c
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BearerToken returns the token of an "Authorization: Bearer <token>" header, or "".
func BearerToken(h http.Header) string {
	scheme, token, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Verify checks the request's bearer token. The error wraps ErrNoToken,
// ErrInvalidToken or ErrForbidden.
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (Caller, error) {
	token := BearerToken(r.Header)
	if token == "" {
		return Caller{}, ErrNoToken
	}
	return v.VerifyToken(ctx, token)
}

// VerifyToken checks one token: shape and algorithm, audience (one of Config.Audiences),
// Google's signature and expiry (idtoken), issuer, issue time, and the verified email
// against Config.ServiceAccounts. The error wraps ErrInvalidToken or ErrForbidden.
func (v *Verifier) VerifyToken(ctx context.Context, token string) (Caller, error) {
	if len(token) > MaxTokenBytes {
		return Caller{}, fmt.Errorf("%w: over %d bytes", ErrInvalidToken, MaxTokenBytes)
	}
	// Google signs service-account ID tokens with RS256. idtoken would also take ES256,
	// which is IAP's (another issuer), and its ES256 path slices the signature without
	// checking its length: a short one panics. So only RS256 gets that far.
	if alg, err := algorithm(token); err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	} else if alg != "RS256" {
		return Caller{}, fmt.Errorf("%w: algorithm %q, want RS256", ErrInvalidToken, alg)
	}
	// The audience to check is taken from the (unverified) payload only to pick which of
	// the configured ones to pass to the validator, which then compares it again; the
	// validator skips the check for an empty audience, so one is never passed.
	unverified, err := idtoken.ParsePayload(token)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if unverified.Audience == "" || !slices.Contains(v.cfg.Audiences, unverified.Audience) {
		return Caller{}, fmt.Errorf("%w: audience %q is not this service's", ErrInvalidToken, unverified.Audience)
	}
	p, err := v.validator.Validate(ctx, token, unverified.Audience)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !slices.Contains(Issuers, p.Issuer) {
		return Caller{}, fmt.Errorf("%w: issuer %q is not Google's", ErrInvalidToken, p.Issuer)
	}
	if time.Unix(p.IssuedAt, 0).After(time.Now().Add(maxFutureIssue)) {
		return Caller{}, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	email, _ := p.Claims["email"].(string)
	verified, _ := p.Claims["email_verified"].(bool)
	if email == "" || !verified {
		return Caller{}, fmt.Errorf("%w: token has no verified email", ErrForbidden)
	}
	if !slices.Contains(v.cfg.ServiceAccounts, strings.ToLower(email)) {
		return Caller{}, fmt.Errorf("%w: %s", ErrForbidden, email)
	}
	return Caller{Email: email, Subject: p.Subject, Audience: p.Audience}, nil
}

// algorithm returns the "alg" of a JWT's header.
func algorithm(token string) (string, error) {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", fmt.Errorf("JWT header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", fmt.Errorf("JWT header: %w", err)
	}
	return h.Alg, nil
}

// Status is the HTTP status for an error of Verify: 401 for a missing or invalid token,
// 403 for a caller that is not allowed, 500 otherwise.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrNoToken), errors.Is(err, ErrInvalidToken):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// Middleware serves next only to verified callers; others get 401 (with a
// WWW-Authenticate challenge) or 403 and next does not run. The request body is not
// read before the token is verified.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.Verify(r.Context(), r); err != nil {
			code := Status(err)
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hearth-events"`)
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		next.ServeHTTP(w, r)
	})
}
