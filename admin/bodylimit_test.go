package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// countingBody is a request body of size bytes that counts what is read
// from it: a JSON object opening ({"reason":"aaaa...), so a handler that
// parses as it reads still has to read on.
type countingBody struct {
	size, read int64
}

const countingPrefix = `{"reason":"`

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.size {
		return 0, io.EOF
	}
	if rest := b.size - b.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	for i := range p {
		if pos := b.read + int64(i); pos < int64(len(countingPrefix)) {
			p[i] = countingPrefix[pos]
		} else {
			p[i] = 'a'
		}
	}
	b.read += int64(len(p))
	return len(p), nil
}

func (b *countingBody) Close() error { return nil }

// routeBodyLimit is the body limit each route must have: the config's
// default, unless the route is one of the few with a documented other limit.
// A route that raises its limit without a line here fails
// TestBodyLimitStreamed (it reads beyond what this says).
func routeBodyLimit(cfg Config, method, path string) int64 {
	switch method + " " + path {
	case "POST /v1/rooms", "POST /v1/rooms/:roomId/members":
		return max(cfg.MaxBodyBytes, MemberListBodyBytes)
	case "POST /events/*path":
		return firestoreevent.MaxBodyBytes
	}
	if reasonOnlyRoutes[method+" "+path] {
		return min(cfg.MaxBodyBytes, ReasonBodyBytes)
	}
	return cfg.MaxBodyBytes
}

// reasonOnlyRoutes are the audited actions whose only body is {reason?}.
var reasonOnlyRoutes = map[string]bool{
	"POST /v1/rooms/:roomId/members/:uid/ban":                 true,
	"DELETE /v1/rooms/:roomId/members/:uid/ban":               true,
	"POST /v1/rooms/:roomId/messages/:messageId/redact":       true,
	"DELETE /admin/v1/users/:uid":                             true,
	"POST /admin/v1/users/:uid/disable":                       true,
	"POST /admin/v1/users/:uid/enable":                        true,
	"POST /admin/v1/users/:uid/revoke-tokens":                 true,
	"DELETE /admin/v1/rooms/:roomId":                          true,
	"POST /admin/v1/rooms/:roomId/archive":                    true,
	"POST /admin/v1/rooms/:roomId/unarchive":                  true,
	"POST /admin/v1/rooms/:roomId/messages/:messageId/redact": true,
	"POST /admin/v1/rooms/:roomId/members/:uid/ban":           true,
	"DELETE /admin/v1/rooms/:roomId/members/:uid/ban":         true,
}

// routePath fills a route pattern's parameters with valid ids, so a handler
// gets past its path checks to the body.
func routePath(pattern string) string {
	return strings.NewReplacer(
		":roomId", "room1", ":uid", "someone", ":messageId", "m1", ":deviceId", "d1",
		"*path", "onMessageCreated", "*objectPath", "media/room1/someone/x.jpg",
	).Replace(pattern)
}

// TestBodyLimitDeclared sends every route of the route table a body whose
// declared Content-Length is one byte over the route's limit: the router
// refuses it with 413 before anything else runs (no token is sent, so a
// limit that ran after authentication would show as 401) and reads none of
// it.
func TestBodyLimitDeclared(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	routes := ts.srv.engine.Routes()
	if len(routes) < 20 {
		t.Fatalf("Routes() = %d routes, want the whole table", len(routes))
	}
	for _, rt := range routes {
		limit := routeBodyLimit(ts.srv.cfg, rt.Method, rt.Path)
		body := &countingBody{size: limit + 1}
		hr := httptest.NewRequestWithContext(t.Context(), rt.Method, routePath(rt.Path), body)
		hr.ContentLength = limit + 1
		hr.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		ts.srv.Handler().ServeHTTP(w, hr)
		checkOpenAPI(t, hr, recorded(w))
		resp := response{Code: w.Code, Body: w.Body.Bytes()}
		if resp.Code != http.StatusRequestEntityTooLarge || resp.errorBody().Code != CodePayloadTooLarge {
			t.Errorf("%s %s with Content-Length %d = %s, want 413 %s", rt.Method, rt.Path, limit+1, resp, CodePayloadTooLarge)
		}
		if body.read != 0 {
			t.Errorf("%s %s read %d bytes of a declared oversize body, want 0", rt.Method, rt.Path, body.read)
		}
		// Exactly at the limit is not too large: the limit is the route's own,
		// not a smaller one.
		hr = httptest.NewRequestWithContext(t.Context(), rt.Method, routePath(rt.Path), &countingBody{size: limit})
		hr.ContentLength = limit
		hr.Header.Set("Content-Type", "application/json")
		w = httptest.NewRecorder()
		ts.srv.Handler().ServeHTTP(w, hr)
		checkOpenAPI(t, hr, recorded(w))
		if w.Code == http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with Content-Length %d (its limit) = 413, want it let through", rt.Method, rt.Path, limit)
		}
	}
}

// TestBodyLimitTable checks that every route named in bodyLimits is in the
// route table: a renamed route would otherwise fall back to the default
// limit without a word.
func TestBodyLimitTable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	routes := map[string]bool{}
	for _, rt := range ts.srv.engine.Routes() {
		routes[rt.Method+" "+rt.Path] = true
	}
	for k := range ts.srv.bodyLimits() {
		if !routes[k] {
			t.Errorf("bodyLimits() names %q, which is not a route", k)
		}
	}
}

// oversize is how far past its limit the streamed body of each route goes:
// the 30 MB body that DELETE /v1/rooms/{roomId}/members/{uid}/ban once read
// in full.
const oversize = 30 << 20

// TestBodyLimitStreamed sends every route a 30 MB body of unknown length
// (chunked), as an app admin so authentication passes and each handler gets
// as far as it would for a real caller. Whatever a route answers, it must
// not read more than its limit + 1 bytes (the byte that proves the body too
// long); a route that reads beyond its limit answers 413. The routes that
// take a body must read it and answer 413: otherwise the test would pass
// without testing anything.
func TestBodyLimitStreamed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	root := ts.newAdmin("Root")
	mustRead := map[string]bool{
		"POST /v1/rooms":                            true,
		"POST /v1/rooms/direct":                     true,
		"POST /v1/rooms/:roomId/members":            true,
		"PATCH /v1/rooms/:roomId/members/:uid":      true,
		"PUT /v1/devices/:deviceId":                 true,
		"POST /v1/uploads":                          true,
		"PUT /admin/v1/users/:uid/claims":           true,
		"DELETE /v1/rooms/:roomId/members/:uid/ban": true,
	}
	for k := range reasonOnlyRoutes {
		mustRead[k] = true
	}
	seen := map[string]bool{}
	for _, rt := range ts.srv.engine.Routes() {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		limit := routeBodyLimit(ts.srv.cfg, rt.Method, rt.Path)
		body := &countingBody{size: limit + oversize}
		hr := httptest.NewRequestWithContext(t.Context(), rt.Method, routePath(rt.Path), body)
		hr.ContentLength = -1
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Authorization", "Bearer "+root.Token)
		w := httptest.NewRecorder()
		ts.srv.Handler().ServeHTTP(w, hr)
		checkOpenAPI(t, hr, recorded(w))
		resp := response{Code: w.Code, Body: w.Body.Bytes()}
		if body.read > limit+1 {
			t.Errorf("%s %s read %d bytes (answered %s), want at most its limit %d + 1", rt.Method, rt.Path, body.read, resp, limit)
		}
		if body.read > limit && resp.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s read past its limit and answered %s, want 413", rt.Method, rt.Path, resp)
		}
		if mustRead[key] && (resp.Code != http.StatusRequestEntityTooLarge || resp.errorBody().Code != CodePayloadTooLarge) {
			t.Errorf("%s %s with a 30 MB body = %s (read %d bytes), want 413 %s", rt.Method, rt.Path, resp, body.read, CodePayloadTooLarge)
		}
	}
	for k := range mustRead {
		if !seen[k] {
			t.Errorf("route %s is not in the route table", k)
		}
	}
}
