// Package console is Hearth's web console: a few static pages and ES modules,
// embedded in the binary and served by the API role at /console/. The pages
// sign an administrator in with Firebase Auth's REST API (Identity Toolkit and
// Secure Token) and then call only the documented /admin/v1 operations with
// the ID token in the Authorization header: no cookies, so no CSRF surface,
// and tokens live in the page's memory only.
//
// Every response carries a strict Content-Security-Policy (scripts and
// styles from this origin only, no inline code, connections to this origin
// and the Auth host only, no framing); the scripts render every piece of
// user-supplied text with textContent.
package console

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// Production Auth endpoints of the Firebase Auth REST API.
const (
	identityToolkitURL = "https://identitytoolkit.googleapis.com"
	secureTokenURL     = "https://securetoken.googleapis.com"
)

//go:embed static
var static embed.FS

// Config configures the console.
type Config struct {
	// APIKey is the Firebase web API key the pages send to the Auth REST API
	// (?key=). It is not a secret: every web app ships it. With the Auth
	// emulator any value works; empty there means "demo-key".
	APIKey string
	// ProjectID is the Firebase project whose users sign in.
	ProjectID string
	// AuthEmulatorHost is the Auth emulator's host:port (the value of
	// FIREBASE_AUTH_EMULATOR_HOST), or empty for Firebase Auth itself.
	AuthEmulatorHost string
	// AuthProxyURL, when set (and AuthEmulatorHost is not), is the origin
	// of a proxy in front of Firebase Auth that serves its REST API under
	// the emulator's path layout (<origin>/identitytoolkit.googleapis.com,
	// <origin>/securetoken.googleapis.com). The pages treat it as Firebase
	// Auth itself: Google sign-in uses the redirect flow. Empty means
	// Google's hosts; the browser tests point it at a stand-in for Google.
	AuthProxyURL string
}

// Validate reports an unusable configuration. The emulator host goes into a
// response header (the CSP), so it must be a plain host:port.
func (c Config) Validate() error {
	var errs []error
	if c.ProjectID == "" {
		errs = append(errs, errors.New("console: project id required"))
	}
	if h := c.AuthEmulatorHost; h != "" {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" || strings.ContainsAny(h, " ;,'\"/\\\t\r\n") {
			errs = append(errs, fmt.Errorf("console: auth emulator host %q: want host:port", h))
		}
	}
	if p := c.AuthProxyURL; p != "" {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
			strings.ContainsAny(p, " ;,'\"\\\t\r\n") {
			errs = append(errs, fmt.Errorf("console: auth proxy %q: want an http(s) origin", p))
		}
	}
	if strings.ContainsAny(c.APIKey, " ;,'\"\\\t\r\n<>&") {
		errs = append(errs, errors.New("console: web API key contains characters no key has"))
	}
	return errors.Join(errs...)
}

// pageConfig is GET /console/config.json: where the pages sign in.
type pageConfig struct {
	// IdentityToolkit and SecureToken are the base URLs of the Auth REST
	// API (accounts:signInWithPassword, accounts:createAuthUri,
	// accounts:signInWithIdp, token).
	IdentityToolkit string `json:"identityToolkit"`
	SecureToken     string `json:"secureToken"`
	APIKey          string `json:"apiKey"`
	ProjectID       string `json:"projectId"`
	// Emulator is set with the Auth emulator: the Google button then signs
	// in with a fake Google id_token, as the emulator accepts (it does not
	// implement accounts:createAuthUri for identity providers). Otherwise
	// the Google button runs the redirect flow (createAuthUri, Google,
	// back to /console/, signInWithIdp).
	Emulator bool `json:"emulator"`
}

// Handler serves the console under Prefix. Create it with New.
type Handler struct {
	csp    string
	config []byte
	files  http.Handler
	assets fs.FS
}

// New validates cfg and builds the handler.
func New(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc := pageConfig{
		IdentityToolkit: identityToolkitURL, SecureToken: secureTokenURL,
		APIKey: cfg.APIKey, ProjectID: cfg.ProjectID,
	}
	connect := identityToolkitURL + " " + secureTokenURL
	if p := strings.TrimSuffix(cfg.AuthProxyURL, "/"); p != "" && cfg.AuthEmulatorHost == "" {
		pc.IdentityToolkit = p + "/identitytoolkit.googleapis.com"
		pc.SecureToken = p + "/securetoken.googleapis.com"
		connect = p
	}
	if h := cfg.AuthEmulatorHost; h != "" {
		origin := "http://" + h
		pc.IdentityToolkit = origin + "/identitytoolkit.googleapis.com"
		pc.SecureToken = origin + "/securetoken.googleapis.com"
		pc.Emulator = true
		if pc.APIKey == "" {
			pc.APIKey = "demo-key"
		}
		connect = origin
	}
	raw, err := json.Marshal(pc)
	if err != nil {
		return nil, fmt.Errorf("console config: %w", err)
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	return &Handler{
		csp:    CSP(connect),
		config: raw,
		files:  http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(sub)),
		assets: sub,
	}, nil
}

// CSP is the console's Content-Security-Policy with connect-src 'self' plus
// authOrigins (space-separated): nothing inline, nothing from elsewhere, no
// framing, no plugins, no <base> or form posts off the origin.
func CSP(authOrigins string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self'",
		"connect-src 'self' " + authOrigins,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// ServeHTTP serves GET and HEAD of the console's files and config.json.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel := strings.TrimPrefix(path.Clean(r.URL.Path), strings.TrimSuffix(Prefix, "/"))
	switch rel {
	case "", "/":
		hd.Set("Cache-Control", "no-cache")
		r2 := r.Clone(r.Context())
		r2.URL.Path = Prefix // the file server serves index.html for the directory
		h.files.ServeHTTP(w, r2)
		return
	case "/config.json":
		hd.Set("Content-Type", "application/json")
		hd.Set("Cache-Control", "no-store")
		w.Write(h.config)
		return
	}
	// Only files that exist; no directory listings.
	name := strings.TrimPrefix(rel, "/")
	if st, err := fs.Stat(h.assets, name); err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	hd.Set("Cache-Control", "no-cache")
	h.files.ServeHTTP(w, r)
}
