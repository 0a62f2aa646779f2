package admin

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRouter keeps /openapi.json and router.go in sync: every
// route has an operation and every operation a route.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	resp := ts.call("GET", "/openapi.json", "", nil, 200)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	resp.decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var inSpec, inRouter []string
	for path, ops := range doc.Paths {
		for method := range ops {
			inSpec = append(inSpec, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range ts.srv.engine.Routes() {
		inRouter = append(inRouter, r.Method+" "+openAPIPath(r.Path))
	}
	slices.Sort(inSpec)
	slices.Sort(inRouter)
	for _, r := range inRouter {
		if !slices.Contains(inSpec, r) {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for _, s := range inSpec {
		if !slices.Contains(inRouter, s) {
			t.Errorf("operation %s has no route", s)
		}
	}
	if len(inRouter) != len(inSpec) {
		t.Errorf("%d routes, %d operations", len(inRouter), len(inSpec))
	}
}

// TestOpenAPIDocument checks the document's internal consistency: every
// $ref resolves, every operation has an id and a success response.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	srv := &Server{}
	raw, err := srv.openAPISpec()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	for _, r := range refs {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		if _, ok := schemas[name]; !ok {
			t.Errorf("$ref %s does not resolve", r)
		}
	}
	ids := map[string]bool{}
	for path, ops := range doc["paths"].(map[string]any) {
		for method, o := range ops.(map[string]any) {
			op := o.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q missing or duplicate", method, path, id)
			}
			ids[id] = true
			resp := op["responses"].(map[string]any)
			ok := false
			for code := range resp {
				ok = ok || code[0] == '2' || code[0] == '3'
			}
			if !ok {
				t.Errorf("%s %s: no success response", method, path)
			}
		}
	}
	room := schemas["Room"].(map[string]any)["properties"].(map[string]any)
	if _, ok := room["memberIds"]; !ok {
		t.Errorf("Room schema lacks memberIds: %v", room)
	}
	if got := schemas["Member"].(map[string]any)["properties"].(map[string]any)["role"].(map[string]any)["enum"]; got == nil {
		t.Error("Member.role has no enum")
	}
}

func TestOpenAPIPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/v1/rooms/:roomId/members/:uid": "/v1/rooms/{roomId}/members/{uid}",
		"/v1/media/*objectPath":          "/v1/media/{objectPath}",
		"/healthz":                       "/healthz",
	}
	for in, want := range tests {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}
