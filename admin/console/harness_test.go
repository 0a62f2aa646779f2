package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/emulator/emutest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// stepTimeout bounds each browser step: a page that never shows what a step
// waits for fails the test with the step's name instead of hanging it.
const stepTimeout = 45 * time.Second

// ScreenshotsEnv names the directory (relative to the module root) where the
// browser tests write a PNG of each page; unset, they write none.
const ScreenshotsEnv = "HEARTH_CONSOLE_SCREENSHOTS"

// chromiumMissing is the failure when no Chromium is installed.
const chromiumMissing = "Chromium not found: the console's browser tests need Debian's chromium package " +
	"(apt-get install -y chromium; `make deps` installs it when run as root), or HEARTH_CHROMIUM=/path/to/chromium"

// consoleAPI is the API (with the console) served over HTTP on the test's
// emulator project, as `hearth serve --role=api` serves it.
type consoleAPI struct {
	env *emutest.Env
	srv *admin.Server
	url string // http://127.0.0.1:port
}

func startAPI(t *testing.T) *consoleAPI {
	t.Helper()
	env := emutest.New(t)
	cfg := admin.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.FirestoreProject = env.ProjectID
	cfg.AuthProject = env.AuthProjectID
	cfg.RateLimit, cfg.RateBurst = 1000, 1000
	srv, err := admin.New(cfg, admin.Deps{
		Firestore: env.Firestore(), Auth: env.Auth(), AuthEmulatorHost: env.AuthHost,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &consoleAPI{env: env, srv: srv, url: "http://" + ln.Addr().String()}
}

// account is an Auth emulator user of a test.
type account struct {
	UID, Email, Password string
}

// newUser signs up a user; a non-empty name is written as the Firestore
// profile's and the Auth record's display name.
func (a *consoleAPI) newUser(t *testing.T, name string) account {
	t.Helper()
	local := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, name))
	if local == "" {
		local = "user"
	}
	u := a.env.NewUser(local)
	if name != "" {
		ctx := t.Context()
		if _, err := a.env.Firestore().Doc("users/"+u.UID).Set(ctx, map[string]any{
			"displayName": name, "createdAt": time.Now(), "settings": map[string]any{},
		}); err != nil {
			t.Fatalf("profile: %v", err)
		}
		if _, err := a.env.Auth().UpdateUser(ctx, u.UID, (&auth.UserToUpdate{}).DisplayName(name)); err != nil {
			t.Fatalf("display name: %v", err)
		}
	}
	return account{UID: u.UID, Email: u.Email, Password: u.Password}
}

// newAdmin signs up a user with the admin claim.
func (a *consoleAPI) newAdmin(t *testing.T, name string) account {
	t.Helper()
	u := a.newUser(t, name)
	if err := a.env.Auth().SetCustomUserClaims(t.Context(), u.UID, map[string]any{"admin": true}); err != nil {
		t.Fatalf("SetCustomUserClaims: %v", err)
	}
	return u
}

// makeGoogleAdmin checks that the account of email signed up with Google
// and gives it the admin claim.
func (a *consoleAPI) makeGoogleAdmin(t *testing.T, email string) {
	t.Helper()
	rec, err := a.env.Auth().GetUserByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("the Google account: %v", err)
	}
	if len(rec.ProviderUserInfo) == 0 || rec.ProviderUserInfo[0].ProviderID != "google.com" {
		t.Errorf("providers = %+v, want google.com", rec.ProviderUserInfo)
	}
	if err := a.env.Auth().SetCustomUserClaims(t.Context(), rec.UID, map[string]any{"admin": true}); err != nil {
		t.Fatal(err)
	}
}

// createRoom creates a group room of owner with members, through /v1 as an
// app does.
func (a *consoleAPI) createRoom(t *testing.T, owner account, title string, members ...account) string {
	t.Helper()
	var ids []string
	for _, m := range members {
		ids = append(ids, m.UID)
	}
	code, body := a.postAs(t, owner, "/v1/rooms", map[string]any{"title": title, "memberIds": ids})
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || code != http.StatusCreated {
		t.Fatalf("POST /v1/rooms = %d %s, %v", code, body, err)
	}
	return out.ID
}

// postAs POSTs body to path with u's ID token and returns the status and body.
func (a *consoleAPI) postAs(t *testing.T, u account, path string, body any) (int, string) {
	t.Helper()
	tok, err := a.env.AuthREST().SignInWithPassword(t.Context(), u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", a.url+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.IDToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: stepTimeout}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the answer: %v", path, err)
	}
	return resp.StatusCode, string(out)
}

// browser is one headless Chromium tab and what the page reported.
type browser struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	// problems are uncaught exceptions, console errors (CSP violations
	// included) and JavaScript dialogs: an alert() means injected script ran.
	problems []string
}

// chromiumPath finds Chromium: HEARTH_CHROMIUM, then chromium on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("HEARTH_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("HEARTH_CHROMIUM=%s: %w; %s", p, err, chromiumMissing)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New(chromiumMissing)
}

// newBrowser starts Chromium for t with a fresh profile and the flags that
// keep it off the network it does not need.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser (no timeout on the first Run: it would bound the
	// browser's life) and report CSP violations to the console, before any
	// script of the page runs.
	start := make(chan error, 1)
	go func() {
		start <- chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
			})
			return err
		}))
	}()
	select {
	case err := <-start:
		if err != nil {
			t.Fatalf("start Chromium (%s): %v", path, err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("Chromium (%s) did not start within 2 minutes", path)
	}
	b.ctx = ctx
	return b
}

func (b *browser) listen(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		p = "uncaught exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			p += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
		}
		p = "console error: " + strings.Join(parts, " ")
	case *page.EventJavascriptDialogOpening:
		p = fmt.Sprintf("JavaScript dialog (%s): %q", e.Type, e.Message)
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// Problems returns what the page reported.
func (b *browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// do runs the steps of one named step, failing the test (with the page's
// problems) when they do not complete within stepTimeout.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (page problems: %q; page text: %q)", what, err, b.Problems(), b.pageText())
	}
}

// pageText is the page's text, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// text is the textContent of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	// Waited for, then read in the page in one step: a page that renders the element
	// again between a node lookup and a read of that node ("No node with given id")
	// still has the element's text.
	q, err := json.Marshal(sel)
	if err != nil {
		b.t.Fatal(err)
	}
	_, err = chromedp.Run(ctx, chromedp.WaitReady(chromedp.CSS(sel)))
	var s string
	if err == nil {
		s, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
			`(() => { const e = document.querySelector(%s); if (!e) throw new Error("no element " + %s); return e.textContent; })()`, q, q)))
	}
	if err != nil {
		b.t.Fatalf("text of %s: %v (page problems: %q)", sel, err, b.Problems())
	}
	return s
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// noProblems fails the test when the page reported any problem.
func (b *browser) noProblems() {
	b.t.Helper()
	for _, p := range b.Problems() {
		b.t.Errorf("page: %s", p)
	}
}

// signIn opens the console and signs in with email and password.
func (b *browser) signIn(api *consoleAPI, u account) {
	b.t.Helper()
	b.do("open the console",
		chromedp.Navigate(api.url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	b.do("sign in as "+u.Email,
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), u.Password),
		chromedp.Click(chromedp.CSS("#signin")))
}

// screenshot writes the page as name.png into $HEARTH_CONSOLE_SCREENSHOTS
// (relative to the module root), when it is set.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		root, err := moduleRoot()
		if err != nil {
			b.t.Fatal(err)
		}
		dir = filepath.Join(root, dir)
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// get fetches path from the API without a token.
func (a *consoleAPI) get(t *testing.T, path string) *http.Response {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(t.Context(), "GET", a.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Go string always marshals
	}
	return string(q)
}
