package console_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hearth-chat/hearth/admin/console"
)

// googleStandIn stands where production has Firebase Auth and Google for
// the redirect flow: the Auth emulator answers accounts:createAuthUri for an
// identity provider with "Sign-in with IDP is not yet supported", and its
// own IdP widget hands its result only to the Firebase JS SDK (through its
// origin's sessionStorage and a gapi iframe). So this proxy answers
// createAuthUri for google.com as Identity Toolkit does (a consent URL, the
// client's sessionId), serves an account chooser for that URL which sends
// the browser back to continueUri with the IdP response in the query, and
// checks that signInWithIdp brings the sessionId its createAuthUri got.
// Every other call, signInWithIdp included, goes to the real Auth emulator,
// which creates or finds the Google user and issues its tokens.
type googleStandIn struct {
	t     *testing.T
	srv   *httptest.Server
	emu   *httputil.ReverseProxy
	mu    sync.Mutex
	state map[string]string // state → the sessionId createAuthUri got
	// signIns counts the signInWithIdp calls whose sessionId matched.
	signIns int
}

func newGoogleStandIn(t *testing.T, authEmulatorHost string) *googleStandIn {
	t.Helper()
	g := &googleStandIn{t: t, state: map[string]string{},
		emu: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: authEmulatorHost})}
	g.srv = httptest.NewServer(g)
	t.Cleanup(g.srv.Close)
	return g
}

const (
	createAuthURIPath = "/identitytoolkit.googleapis.com/v1/accounts:createAuthUri"
	signInWithIdpPath = "/identitytoolkit.googleapis.com/v1/accounts:signInWithIdp"
)

func (g *googleStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == createAuthURIPath:
		g.createAuthURI(w, r)
	case r.Method == http.MethodPost && r.URL.Path == signInWithIdpPath:
		g.signInWithIdp(w, r)
	case r.URL.Path == "/o/oauth2/auth":
		g.chooser(w, r)
	case r.URL.Path == "/o/oauth2/approve":
		g.approve(w, r)
	default:
		g.emu.ServeHTTP(w, r)
	}
}

func authError(w http.ResponseWriter, code string) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": 400, "message": code}})
}

func (g *googleStandIn) createAuthURI(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ProviderID  string `json:"providerId"`
		ContinueURI string `json:"continueUri"`
		SessionID   string `json:"sessionId"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		authError(w, "INVALID_JSON")
		return
	}
	if req.ProviderID != "google.com" {
		authError(w, "INVALID_PROVIDER_ID")
		return
	}
	if u, err := url.Parse(req.ContinueURI); err != nil || !u.IsAbs() {
		authError(w, "INVALID_CONTINUE_URI")
		return
	}
	if req.SessionID == "" {
		authError(w, "MISSING_SESSION_ID")
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	state := hex.EncodeToString(b)
	g.mu.Lock()
	g.state[state] = req.SessionID
	g.mu.Unlock()
	q := url.Values{"response_type": {"code"}, "client_id": {"stand-in"}, "redirect_uri": {req.ContinueURI},
		"state": {state}, "scope": {"openid profile email"}}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"kind": "identitytoolkit#CreateAuthUriResponse", "authUri": g.srv.URL + "/o/oauth2/auth?" + q.Encode(),
		"providerId": "google.com", "sessionId": req.SessionID,
	})
}

var chooserPage = template.Must(template.New("chooser").Parse(`<!doctype html>
<title>Choose an account</title>
<h1>Sign in with Google (test stand-in)</h1>
<form method="get" action="/o/oauth2/approve">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="redirect_uri" value="{{.Redirect}}">
<input id="stand-in-email" name="email" type="email">
<button id="stand-in-continue" type="submit">Continue</button>
</form>`))

func (g *googleStandIn) chooser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	chooserPage.Execute(w, map[string]string{"State": r.FormValue("state"), "Redirect": r.FormValue("redirect_uri")})
}

// approve sends the browser back to the console with the IdP response: the
// state, and a Google id_token as the Auth emulator accepts (strict JSON
// claims; Google's real response carries an authorization code instead,
// which the page passes on just the same, as the whole URL).
func (g *googleStandIn) approve(w http.ResponseWriter, r *http.Request) {
	email := r.FormValue("email")
	back, err := url.Parse(r.FormValue("redirect_uri"))
	if err != nil || email == "" {
		http.Error(w, "bad approval", http.StatusBadRequest)
		return
	}
	claims, _ := json.Marshal(map[string]any{"sub": "google-" + email, "email": email, "email_verified": true})
	q := back.Query()
	q.Set("state", r.FormValue("state"))
	q.Set("providerId", "google.com")
	q.Set("id_token", string(claims))
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// signInWithIdp checks the sessionId against the state in requestUri, as
// Identity Toolkit does, and passes the call on to the emulator.
func (g *googleStandIn) signInWithIdp(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		authError(w, "INVALID_JSON")
		return
	}
	var req struct {
		RequestURI string `json:"requestUri"`
		SessionID  string `json:"sessionId"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		authError(w, "INVALID_JSON")
		return
	}
	u, err := url.Parse(req.RequestURI)
	if err != nil {
		authError(w, "INVALID_REQUEST_URI")
		return
	}
	g.mu.Lock()
	want, ok := g.state[u.Query().Get("state")]
	if ok && want == req.SessionID && req.SessionID != "" {
		delete(g.state, u.Query().Get("state"))
		g.signIns++
	}
	g.mu.Unlock()
	if !ok || want != req.SessionID || req.SessionID == "" {
		authError(w, "MISSING_OR_INVALID_NONCE : the sessionId does not match the request")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	g.emu.ServeHTTP(w, r)
}

func (g *googleStandIn) matchedSignIns() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.signIns
}

// serveProductionConsole serves the console configured as in production
// (no emulator host) but with Firebase Auth behind the stand-in, in front
// of the test's API on one origin.
func serveProductionConsole(t *testing.T, api *consoleAPI, g *googleStandIn) string {
	t.Helper()
	h, err := console.New(console.Config{APIKey: "demo-key", ProjectID: api.env.AuthProjectID, AuthProxyURL: g.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(api.url)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, h)
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestConsoleGoogleRedirect: with Firebase Auth (not the emulator) the
// Google button runs the redirect flow with no Google script in the page:
// createAuthUri, the account chooser, back to /console/, signInWithIdp with
// the returned URL and the sessionId. An account without the admin claim
// gets "not an admin"; given the claim, it gets in. The IdP response does
// not stay in the address bar and the sessionId does not stay in storage.
func TestConsoleGoogleRedirect(t *testing.T) {
	api := startAPI(t)
	g := newGoogleStandIn(t, api.env.AuthHost)
	origin := serveProductionConsole(t, api, g)
	email := "gail+" + api.env.ProjectID + "@example.com"
	b := newBrowser(t)

	b.do("open the console",
		chromedp.Navigate(origin+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#google-signin")))
	if visible := eval[bool](b, `!document.getElementById('google-email').hidden`); visible {
		t.Error("the emulator's Google email field is shown with Firebase Auth")
	}
	googleSignIn := func(what string, then string) {
		b.do(what,
			chromedp.Click(chromedp.CSS("#google-signin")),
			chromedp.WaitVisible(chromedp.CSS("#stand-in-email")),
			chromedp.SendKeys(chromedp.CSS("#stand-in-email"), email),
			chromedp.Click(chromedp.CSS("#stand-in-continue")),
			chromedp.WaitVisible(chromedp.CSS(then)))
	}
	googleSignIn("sign in with Google", "#not-admin")
	if got := b.text("#who"); got != email {
		t.Errorf("signed in as %q, want %q", got, email)
	}
	if loc := eval[string](b, `location.href`); loc != origin+"/console/" {
		t.Errorf("address after sign-in = %q, want the IdP response gone", loc)
	}
	if n := eval[int](b, `sessionStorage.length`); n != 0 {
		t.Errorf("%d sessionStorage items after sign-in, want 0", n)
	}
	api.makeGoogleAdmin(t, email)
	b.do("back to sign-in", chromedp.Click(chromedp.CSS("#not-admin button")))
	googleSignIn("sign in with Google as an admin", "#overview-days")
	if n := g.matchedSignIns(); n != 2 {
		t.Errorf("%d signInWithIdp calls with the matching sessionId, want 2", n)
	}

	// A return to /console/ with an IdP response but no pending sign-in
	// (a forged or replayed link) signs nobody in.
	b.do("a forged return",
		chromedp.Navigate(origin+"/console/?state=x&providerId=google.com&id_token="+
			url.QueryEscape(`{"sub":"mallory","email":"mallory@example.com"}`)),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	if _, err := api.env.Auth().GetUserByEmail(t.Context(), "mallory@example.com"); err == nil {
		t.Error("a forged return created an account")
	}
	if who := strings.TrimSpace(b.text("#who")); who != "" || eval[bool](b, `!document.getElementById('nav').hidden`) {
		t.Error("a forged return shows the pages")
	}
	b.noProblems()
}
