package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestConsoleHeaders: the console's responses carry the strict CSP (with
// the Auth emulator as the only other origin), no framing, no sniffing;
// /console redirects; config.json says where to sign in; nothing else is
// served under /console/.
func TestConsoleHeaders(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.AuthEmulatorHost = "127.0.0.1:9099" })
	for _, path := range []string{"/console/", "/console/app.js", "/console/style.css", "/console/config.json"} {
		r := ts.do(req{method: "GET", path: path})
		if r.Code != http.StatusOK {
			t.Errorf("GET %s = %d", path, r.Code)
			continue
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'",
			"connect-src 'self' http://127.0.0.1:9099;", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp+";", want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q allows unsafe sources", path, csp)
		}
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q", path, got)
		}
		if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options = %q", path, got)
		}
	}
	if r := ts.do(req{method: "GET", path: "/console/"}); !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /console/ Content-Type = %q", r.Header.Get("Content-Type"))
	}
	if r := ts.do(req{method: "GET", path: "/console/app.js"}); !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
		t.Errorf("GET /console/app.js Content-Type = %q (a module needs a JavaScript type under nosniff)", r.Header.Get("Content-Type"))
	}
	r := ts.do(req{method: "GET", path: "/console"})
	if r.Code != http.StatusMovedPermanently || r.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console = %d Location %q, want 301 /console/", r.Code, r.Header.Get("Location"))
	}
	var cfg struct {
		IdentityToolkit, SecureToken, APIKey, ProjectID string
		Emulator                                        bool
	}
	ts.call("GET", "/console/config.json", "", nil, 200).decode(t, &cfg)
	if cfg.IdentityToolkit != "http://127.0.0.1:9099/identitytoolkit.googleapis.com" ||
		cfg.SecureToken != "http://127.0.0.1:9099/securetoken.googleapis.com" || !cfg.Emulator || cfg.ProjectID != ts.env.AuthProjectID {
		t.Errorf("config.json = %+v", cfg)
	}
	for _, path := range []string{"/console/nope.js", "/console/static/app.js", "/console/../healthz/x", "/console/index.html/"} {
		if r := ts.do(req{method: "GET", path: path}); r.Code != http.StatusNotFound && r.Code != http.StatusMovedPermanently {
			t.Errorf("GET %s = %d %s, want 404", path, r.Code, r.Body)
		}
	}
	if r := ts.do(req{method: "POST", path: "/console/", body: "{}"}); r.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/ = %d, want 405", r.Code)
	}
}

// TestConsoleProductionAuthHosts: without the emulator the pages sign in at
// Google's Auth hosts with the configured web API key, and the CSP names
// exactly those.
func TestConsoleProductionAuthHosts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.WebAPIKey = "AIzaTestKey" })
	r := ts.call("GET", "/console/config.json", "", nil, 200)
	var cfg map[string]any
	r.decode(t, &cfg)
	if cfg["identityToolkit"] != "https://identitytoolkit.googleapis.com" || cfg["apiKey"] != "AIzaTestKey" || cfg["emulator"] != false {
		t.Errorf("config.json = %v", cfg)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com;") {
		t.Errorf("CSP = %q", csp)
	}
}

// TestConsoleRejectsBadAuthHost: the emulator host goes into a header, so
// New refuses one that could smuggle a CSP directive.
func TestConsoleRejectsBadAuthHost(t *testing.T) {
	t.Parallel()
	env := newTestServer(t).env
	for _, h := range []string{"127.0.0.1:9099; script-src *", "http://127.0.0.1:9099", "nohost"} {
		_, err := New(testConfig(env), Deps{Firestore: env.Firestore(), Auth: env.Auth(), AuthEmulatorHost: h})
		if err == nil {
			t.Errorf("New with AuthEmulatorHost %q: no error", h)
		}
	}
}

// awaitingMerge are operations the console calls that another branch adds
// to the API (the reports API of the moderation queue, built to the agreed
// contract); they must not stay here once the operation exists.
var awaitingMerge = map[string]bool{}

// TestConsoleUsesDocumentedOperations: every call of the console's
// operations table is an /admin/v1 operation of the OpenAPI document, and no
// script names an API path outside that table.
func TestConsoleUsesDocumentedOperations(t *testing.T) {
	t.Parallel()
	raw, err := (&Server{}).openAPISpec()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	src, err := os.ReadFile("console/static/api.js")
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`\['(GET|POST|PUT|PATCH|DELETE)', '([^']*)'\]`)
	calls := entry.FindAllStringSubmatch(string(src), -1)
	if len(calls) < 10 {
		t.Fatalf("found %d operations in api.js; the table's format changed?", len(calls))
	}
	for _, c := range calls {
		op := c[1] + " " + c[2]
		switch {
		case !strings.HasPrefix(c[2], "/admin/v1/"):
			t.Errorf("console operation %s is not an /admin/v1 operation", op)
		case documented[op] && awaitingMerge[op]:
			t.Errorf("console operation %s is documented now: remove it from awaitingMerge", op)
		case !documented[op] && !awaitingMerge[op]:
			t.Errorf("console operation %s is not in the OpenAPI document", op)
		}
	}
	// Outside the table, no script names an API path (every call goes
	// through the table).
	files, err := os.ReadDir("console/static")
	if err != nil {
		t.Fatal(err)
	}
	apiPath := regexp.MustCompile(`['"\x60](/admin/v1|/v1/[\w:]*|/events|/schedulers)`)
	// Firebase Auth's REST paths (auth.js), on the Auth host, are not Hearth's.
	authPath := func(p string) bool { return strings.HasPrefix(p, "/v1/accounts:") || p == "/v1/token" }
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".js") {
			continue
		}
		b, err := os.ReadFile("console/static/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() == "api.js" {
			b = entry.ReplaceAll(b, nil)
		}
		for _, m := range apiPath.FindAllSubmatch(b, -1) {
			if !authPath(string(m[1])) {
				t.Errorf("%s names an API path (%s) outside the operations table of api.js", f.Name(), m[1])
			}
		}
	}
}

// TestConsoleScriptsAreInert checks the rules the CSP cannot: no script
// builds markup from strings or keeps anything in web storage (but for the
// pending Google redirect's sessionId in auth.js, never a token), and the
// page has no inline code for a later CSP relaxation to enable.
func TestConsoleScriptsAreInert(t *testing.T) {
	t.Parallel()
	files, err := os.ReadDir("console/static")
	if err != nil {
		t.Fatal(err)
	}
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"]on|localStorage|sessionStorage|document\.cookie|indexedDB`)
	// The one web storage use: the Google redirect's sessionId, by its key.
	sessionID := regexp.MustCompile(`sessionStorage\.(getItem\(googleSessionKey\)|removeItem\(googleSessionKey\)|setItem\(googleSessionKey, d\.sessionId \|\| sessionId\))`)
	inline := regexp.MustCompile(`(?i)\son\w+\s*=|\sstyle\s*=|<style|javascript:`)
	script := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	for _, f := range files {
		b, err := os.ReadFile("console/static/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f.Name(), ".js"):
			if f.Name() == "auth.js" {
				b = sessionID.ReplaceAll(b, nil)
			}
			if m := banned.Find(b); m != nil {
				t.Errorf("%s uses %s", f.Name(), m)
			}
		case strings.HasSuffix(f.Name(), ".html"):
			if m := inline.Find(b); m != nil {
				t.Errorf("%s has inline code: %s", f.Name(), m)
			}
			for _, m := range script.FindAllSubmatch(b, -1) {
				if !strings.Contains(string(m[1]), "src=") || strings.TrimSpace(string(m[2])) != "" {
					t.Errorf("%s has an inline script: %s", f.Name(), m[0])
				}
			}
		}
	}
}

// TestAuditTimeFilter: since (inclusive) and until (exclusive) bound the
// audit entries by time, alone and with an actor; a bad time is a 400.
func TestAuditTimeFilter(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	adm := ts.newAdmin("Ada")
	u := ts.newUser("Dave")
	t0 := ts.clock.Now()
	ts.call("POST", "/admin/v1/users/"+u.UID+"/disable", adm.Token, nil, 200)
	ts.clock.Advance(10 * time.Minute)
	ts.call("POST", "/admin/v1/users/"+u.UID+"/enable", adm.Token, nil, 200)
	mid := t0.Add(5 * time.Minute).UTC().Format(time.RFC3339Nano)
	list := func(q string) []string {
		t.Helper()
		var out struct{ Entries []apiAuditEntry }
		ts.call("GET", "/admin/v1/audit?"+q, adm.Token, nil, 200).decode(t, &out)
		var got []string
		for _, e := range out.Entries {
			got = append(got, e.Action)
		}
		return got
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"", []string{ActionUserEnable, ActionUserDisable}},
		{"since=" + url.QueryEscape(mid), []string{ActionUserEnable}},
		{"until=" + url.QueryEscape(mid), []string{ActionUserDisable}},
		{"since=" + url.QueryEscape(t0.UTC().Format(time.RFC3339Nano)) + "&until=" + url.QueryEscape(mid), []string{ActionUserDisable}},
		{"actor=" + adm.UID + "&since=" + url.QueryEscape(mid), []string{ActionUserEnable}},
		{"action=" + ActionUserDisable + "&since=" + url.QueryEscape(mid), nil},
	}
	for _, tt := range tests {
		if got := list(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("GET /admin/v1/audit?%s = %v, want %v", tt.q, got, tt.want)
		}
	}
	for _, bad := range []string{"since=yesterday", "until=2026-13-01T00:00:00Z", "since=" + strings.Repeat("9", 100)} {
		r := ts.do(req{method: "GET", path: "/admin/v1/audit?" + bad, token: adm.Token})
		if r.Code != http.StatusBadRequest {
			t.Errorf("GET /admin/v1/audit?%s = %d, want 400", bad, r.Code)
		}
	}
}

// TestOverview: messages per UTC day, active users, the digest queue and
// rejected media come from Firestore; pushes and trigger lag from this
// process's metrics, null when it has none.
func TestOverview(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricPushSent}, []string{"kind"})
	reg.MustRegister(sent)
	sent.WithLabelValues("digest").Add(3)
	sent.WithLabelValues("mention").Add(2)
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.Registry = reg })
	adm := ts.newAdmin("Ada")
	fs := ts.env.Firestore()
	ctx := t.Context()
	now := ts.clock.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	ts.addMessage("r1", "m1", adm.UID, "today", today.Add(time.Minute))
	ts.addMessage("r1", "m2", adm.UID, "today too", today)
	ts.addMessage("r2", "m3", adm.UID, "two days ago", today.AddDate(0, 0, -2).Add(time.Hour))
	ts.addMessage("r2", "m4", adm.UID, "too old", today.AddDate(0, 0, -OverviewDays))
	for i, reason := range []string{"too_large", "too_large", "not_an_image"} {
		if _, err := fs.Doc(fmt.Sprintf("uploads/x%d", i)).Set(ctx, map[string]any{
			"uid": adm.UID, "status": "rejected", "reason": reason,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Doc("uploads/ok").Set(ctx, map[string]any{"uid": adm.UID, "status": "ready"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Doc(model.PresencePath("u1")).Set(ctx, map[string]any{"state": "online", "heartbeatAt": now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Doc(model.PresencePath("u2")).Set(ctx, map[string]any{"state": "offline", "heartbeatAt": now.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for id, due := range map[string]time.Time{"u1_r1": now.Add(-90 * time.Second), "u2_r1": now.Add(time.Minute)} {
		if _, err := fs.Doc("pushQueue/"+id).Set(ctx, map[string]any{"uid": "u", "dueAt": due}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Doc("pushQueue/u3_r1").Set(ctx, map[string]any{"uid": "u3"}); err != nil { // sent: no dueAt
		t.Fatal(err)
	}
	var raw map[string]any
	r := ts.call("GET", "/admin/v1/overview", adm.Token, nil, 200)
	r.decode(t, &raw)
	var o overviewResponse
	r.decode(t, &o)
	var days []int64
	for _, d := range o.MessagesPerDay {
		days = append(days, d.Messages)
	}
	if want := []int64{0, 0, 0, 0, 1, 0, 2}; !slices.Equal(days, want) {
		t.Errorf("messagesPerDay = %v, want %v", o.MessagesPerDay, want)
	}
	if last := o.MessagesPerDay[OverviewDays-1].Day; last != today.Format(time.DateOnly) {
		t.Errorf("last day = %s, want today %s", last, today.Format(time.DateOnly))
	}
	if o.ActiveUsers != 1 || o.ActiveUsersWindow != "24h" {
		t.Errorf("active users = %d in %q, want 1 in 24h", o.ActiveUsers, o.ActiveUsersWindow)
	}
	if o.DigestQueue.Pending != 2 || o.DigestQueue.OldestOverdueSeconds != 90 {
		t.Errorf("digest queue = %+v, want 2 pending, 90 s overdue", o.DigestQueue)
	}
	if want := map[string]int64{"too_large": 2, "not_an_image": 1}; len(o.MediaRejected) != 2 ||
		o.MediaRejected["too_large"] != 2 || o.MediaRejected["not_an_image"] != 1 || o.MediaRejectedTruncated {
		t.Errorf("media rejected = %v (truncated %v), want %v", o.MediaRejected, o.MediaRejectedTruncated, want)
	}
	if o.PushesSent == nil || *o.PushesSent != 5 {
		t.Errorf("pushesSent = %v, want 5", o.PushesSent)
	}
	for _, k := range []string{"pushesFailed", "triggerLagSeconds"} {
		if v, ok := raw[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null: this process does not record it", k, v, ok)
		}
	}
}
