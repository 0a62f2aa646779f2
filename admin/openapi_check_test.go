package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The API tests check every response they receive against the OpenAPI document:
// testServer.do passes each one to checkResponse, which finds the operation with a
// kin-openapi router and validates the status (it must be documented), the content
// type, the headers and the body's schema (required and nullable fields included)
// with openapi3filter.ValidateResponse.

// openAPIChecker is the loaded and validated document with its router.
type openAPIChecker struct {
	doc    *openapi3.T
	router routers.Router
	// wildcards are the operations of Gin catch-all routes (/v1/media/*objectPath),
	// whose parameter spans several segments: a path template cannot say so, so they
	// are matched by prefix.
	wildcards []wildcardRoute
}

type wildcardRoute struct {
	method, prefix, path, param string // path: the OpenAPI path
}

var (
	checkerOnce sync.Once
	checker     *openAPIChecker
	checkerErr  error
)

// loadOpenAPI loads raw with kin-openapi's loader and validates it.
func loadOpenAPI(raw []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return doc, nil
}

// sharedChecker builds the checker once per test binary from the generated document.
func sharedChecker() (*openAPIChecker, error) {
	checkerOnce.Do(func() {
		raw, err := (&Server{}).openAPISpec()
		if err != nil {
			checkerErr = err
			return
		}
		doc, err := loadOpenAPI(raw)
		if err != nil {
			checkerErr = err
			return
		}
		// Route on paths only: the tests' requests do not go to the document's
		// example server.
		routed := *doc
		routed.Servers = nil
		r, err := gorillamux.NewRouter(&routed)
		if err != nil {
			checkerErr = fmt.Errorf("router: %w", err)
			return
		}
		c := &openAPIChecker{doc: doc, router: r}
		for _, op := range operations() {
			if i := strings.Index(op.path, "*"); i >= 0 {
				c.wildcards = append(c.wildcards, wildcardRoute{method: op.method, prefix: op.path[:i],
					path: openAPIPath(op.path), param: op.path[i+1:]})
			}
		}
		checker = c
	})
	return checker, checkerErr
}

// find returns the operation of hr.
func (c *openAPIChecker) find(hr *http.Request) (*routers.Route, map[string]string, error) {
	for _, w := range c.wildcards {
		if hr.Method == w.method && strings.HasPrefix(hr.URL.Path, w.prefix) {
			item := c.doc.Paths.Value(w.path)
			return &routers.Route{Spec: c.doc, Path: w.path, PathItem: item, Method: hr.Method,
				Operation: item.GetOperation(hr.Method)}, map[string]string{w.param: strings.TrimPrefix(hr.URL.Path, w.prefix)}, nil
		}
	}
	route, params, err := c.router.FindRoute(hr)
	if errors.Is(err, routers.ErrPathNotFound) && strings.Contains(hr.URL.Path, "//") {
		// An empty path parameter (/v1/rooms//messages) is still a request for the
		// operation: Gin routes it there and the handler refuses it with 400. The
		// router's templates need a non-empty segment, so look it up with one.
		alt := hr.Clone(hr.Context())
		alt.URL.Path = strings.ReplaceAll(hr.URL.Path, "//", "/-/")
		alt.URL.RawPath = ""
		return c.router.FindRoute(alt)
	}
	return route, params, err
}

// check validates one response to hr. Requests for no documented operation may only
// be answered 404 or 405 (what the router answers them).
func (c *openAPIChecker) check(ctx context.Context, hr *http.Request, r response) error {
	route, params, err := c.find(hr)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		if r.Code == http.StatusNotFound || r.Code == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("%s %s is no documented operation, yet answered %d", hr.Method, hr.URL.Path, r.Code)
	}
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route},
		Status:                 r.Code,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("%s %s answered %d %s: not as documented: %w", hr.Method, hr.URL.Path, r.Code, truncate(r.Body), err)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// checkResponse fails the test when r, the answer to hr, is not as the document says.
func (ts *testServer) checkResponse(hr *http.Request, r response) {
	ts.t.Helper()
	checkOpenAPI(ts.t, hr, r)
}

// checkOpenAPI is checkResponse for tests that send requests to a handler themselves.
func checkOpenAPI(t testing.TB, hr *http.Request, r response) {
	t.Helper()
	c, err := sharedChecker()
	if err != nil {
		t.Errorf("OpenAPI document: %v", err)
		return
	}
	if err := c.check(context.Background(), hr, r); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
}

// recorded is the response a recorder holds.
func recorded(w *httptest.ResponseRecorder) response {
	return response{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// TestOpenAPIValidates loads the document served at /openapi.json with kin-openapi
// and validates it.
func TestOpenAPIValidates(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	raw := ts.call("GET", "/openapi.json", "", nil, 200).Body
	if _, err := loadOpenAPI(raw); err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}
}

// TestOpenAPIEdgeResponses requests what the other tests rarely see — a user without
// a profile, empty lists, a refused action on the admin's own account — and each
// answer is checked against the document by testServer.do.
func TestOpenAPIEdgeResponses(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.newAdmin("Ada")
	bare := ts.newUser("") // an Auth account without a Firestore profile
	ts.call("GET", "/admin/v1/users/"+bare.UID, admin.Token, nil, 200)
	ts.call("GET", "/admin/v1/users?email=nobody%40example.com", admin.Token, nil, 200)
	ts.call("GET", "/admin/v1/audit?actor=nobody", admin.Token, nil, 200)
	ts.call("GET", "/admin/v1/rooms?type=direct", admin.Token, nil, 200)
	ts.call("POST", "/admin/v1/users/"+admin.UID+"/disable", admin.Token, nil, 409)
	ts.call("POST", "/v1/rooms/direct", bare.Token, map[string]any{"userId": "nosuchuser123"}, 404)
	ts.call("GET", "/readyz", "", nil, 200)
}

// TestOpenAPICheckerRefuses: the check fails on an undocumented status, a body that
// is not the schema, a null where the schema has no nullable, and a wrong content
// type, so a handler that drifts from the document cannot pass unnoticed.
func TestOpenAPICheckerRefuses(t *testing.T) {
	t.Parallel()
	c, err := sharedChecker()
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	me := `{"uid":"u1","admin":false,"revocationChecked":false}`
	good := response{Code: 200, Header: jsonHeader, Body: []byte(me)}
	req := func(method, path string) *http.Request {
		hr, err := http.NewRequest(method, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return hr
	}
	if err := c.check(t.Context(), req("GET", "/v1/me"), good); err != nil {
		t.Fatalf("a documented answer is refused: %v", err)
	}
	for name, tc := range map[string]struct {
		hr *http.Request
		r  response
	}{
		"undocumented status": {req("GET", "/v1/me"), response{Code: 418, Header: jsonHeader, Body: []byte(me)}},
		"wrong type":          {req("GET", "/v1/me"), response{Code: 200, Header: jsonHeader, Body: []byte(`{"uid":5}`)}},
		"missing required":    {req("GET", "/admin/v1/rooms"), response{Code: 200, Header: jsonHeader, Body: []byte(`{}`)}},
		"null not nullable":   {req("GET", "/admin/v1/audit"), response{Code: 200, Header: jsonHeader, Body: []byte(`{"entries":null}`)}},
		"wrong content type":  {req("GET", "/v1/me"), response{Code: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte(me)}},
		"2xx off the map":     {req("GET", "/v1/nosuch"), response{Code: 200, Header: jsonHeader, Body: []byte(`{}`)}},
	} {
		if err := c.check(t.Context(), tc.hr, tc.r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
