package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/option"
)

// fakeRulesAPI is the part of the Firebase Rules API (v1) that Deployer uses,
// in memory: releases point at rulesets; rulesets hold sources.
type fakeRulesAPI struct {
	mu       sync.Mutex
	releases map[string]string            // release name -> ruleset name
	rulesets map[string]map[string]string // ruleset name -> file name -> content
	calls    []string                     // "METHOD path", in order
	issues   []map[string]any             // returned by :test
	seq      int
}

func (f *fakeRulesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	f.calls = append(f.calls, r.Method+" "+path)
	var body map[string]any
	if r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
	}
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	notFound := func() {
		w.WriteHeader(http.StatusNotFound)
		reply(map[string]any{"error": map[string]any{"code": 404, "message": "not found", "status": "NOT_FOUND"}})
	}
	files := func(src any) map[string]string {
		out := map[string]string{}
		for _, fl := range src.(map[string]any)["files"].([]any) {
			m := fl.(map[string]any)
			out[m["name"].(string)] = m["content"].(string)
		}
		return out
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, ":test"):
		files(body["source"]) // must carry a source
		reply(map[string]any{"issues": f.issues})
	case r.Method == http.MethodGet && strings.Contains(path, "/releases/"):
		rs, ok := f.releases[path]
		if !ok {
			notFound()
			return
		}
		reply(map[string]any{"name": path, "rulesetName": rs})
	case r.Method == http.MethodGet && strings.Contains(path, "/rulesets/"):
		src, ok := f.rulesets[path]
		if !ok {
			notFound()
			return
		}
		var fl []map[string]string
		for name, content := range src {
			fl = append(fl, map[string]string{"name": name, "content": content})
		}
		reply(map[string]any{"name": path, "source": map[string]any{"files": fl}})
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/rulesets"):
		f.seq++
		name := fmt.Sprintf("%s/rulesets/new-%d", strings.TrimSuffix(path, "/rulesets"), f.seq)
		f.rulesets[name] = files(body["source"])
		reply(map[string]any{"name": name})
	case r.Method == http.MethodPatch && strings.Contains(path, "/releases/"):
		if _, ok := f.releases[path]; !ok {
			notFound()
			return
		}
		rel := body["release"].(map[string]any)
		f.releases[path] = rel["rulesetName"].(string)
		reply(rel)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/releases"):
		f.releases[body["name"].(string)] = body["rulesetName"].(string)
		reply(body)
	default:
		w.WriteHeader(http.StatusBadRequest)
		reply(map[string]any{"error": map[string]any{"code": 400, "message": "unexpected " + r.Method + " " + path}})
	}
}

func (f *fakeRulesAPI) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func newFakeDeployer(t *testing.T) (*Deployer, *fakeRulesAPI) {
	t.Helper()
	api := &fakeRulesAPI{
		releases: map[string]string{"projects/p/releases/cloud.firestore": "projects/p/rulesets/old"},
		rulesets: map[string]map[string]string{"projects/p/rulesets/old": {"firestore.rules": "rules_version = '2';\n// old\n"}},
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	d, err := NewDeployer(t.Context(), DeployConfig{Project: "p", Bucket: "b.appspot.com"},
		option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatalf("NewDeployer() = %v", err)
	}
	return d, api
}

func TestDeployPlanChangesNothing(t *testing.T) {
	d, api := newFakeDeployer(t)
	changes, err := d.Plan(t.Context())
	if err != nil {
		t.Fatalf("Plan() = %v", err)
	}
	for _, c := range api.takeCalls() {
		if !strings.HasPrefix(c, "GET ") && !strings.HasSuffix(c, ":test") {
			t.Errorf("Plan() made a changing call %q", c)
		}
	}
	if len(changes) != 2 {
		t.Fatalf("Plan() = %d changes, want 2", len(changes))
	}
	fs, st := changes[0], changes[1]
	if fs.Release != "projects/p/releases/cloud.firestore" || fs.CurrentRuleset != "projects/p/rulesets/old" || !fs.Changed() {
		t.Errorf("Plan() firestore = %+v", fs)
	}
	if d := fs.Diff(); !strings.Contains(d, "-// old\n") || !strings.Contains(d, "+service cloud.firestore {\n") {
		t.Errorf("Plan() firestore diff = %q, want the old line removed and the service added", d)
	}
	if st.Release != "projects/p/releases/firebase.storage/b.appspot.com" || st.CurrentRuleset != "" || st.Current != "" || !st.Changed() {
		t.Errorf("Plan() storage = %+v", st)
	}
}

func TestDeploy(t *testing.T) {
	d, api := newFakeDeployer(t)
	changes, err := d.Deploy(t.Context())
	if err != nil {
		t.Fatalf("Deploy() = %v", err)
	}
	fsRules, stRules, _ := Render()
	for _, c := range []struct {
		release, file, want string
	}{
		{"projects/p/releases/cloud.firestore", "firestore.rules", string(fsRules)},
		{"projects/p/releases/firebase.storage/b.appspot.com", "storage.rules", string(stRules)},
	} {
		rs := api.releases[c.release]
		if got := api.rulesets[rs][c.file]; got != c.want {
			t.Errorf("after Deploy(), %s runs %s with %s = %.40q..., want the rendered rules", c.release, rs, c.file, got)
		}
	}
	if changes[0].NewRuleset == "" || changes[1].NewRuleset == "" {
		t.Errorf("Deploy() changes = %+v, want NewRuleset set", changes)
	}
	calls := strings.Join(api.takeCalls(), "\n")
	for _, want := range []string{
		"PATCH projects/p/releases/cloud.firestore",
		"PATCH projects/p/releases/firebase.storage/b.appspot.com", // 404: does not exist yet
		"POST projects/p/releases",                                 // so it is created
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("Deploy() calls lack %q:\n%s", want, calls)
		}
	}

	// Deploying the same rules again changes nothing and creates no ruleset.
	rulesets := len(api.rulesets)
	changes, err = d.Deploy(t.Context())
	if err != nil {
		t.Fatalf("Deploy(again) = %v", err)
	}
	for _, c := range changes {
		if c.Changed() || c.NewRuleset != "" || c.Diff() != "" {
			t.Errorf("Deploy(again) %s changed = %v, new ruleset %q", c.Release, c.Changed(), c.NewRuleset)
		}
	}
	if len(api.rulesets) != rulesets {
		t.Errorf("Deploy(again) created %d rulesets, want 0", len(api.rulesets)-rulesets)
	}
}

func TestDeployRejectsInvalidRules(t *testing.T) {
	d, api := newFakeDeployer(t)
	api.issues = []map[string]any{
		{"description": "Unused function", "severity": "WARNING"},
		{"description": "Missing 'match' keyword", "severity": "ERROR", "sourcePosition": map[string]any{"line": 3, "column": 1}},
	}
	_, err := d.Deploy(t.Context())
	if !errors.Is(err, ErrRulesInvalid) || !strings.Contains(err.Error(), "firestore.rules:3:1: Missing 'match' keyword") {
		t.Fatalf("Deploy() = %v, want ErrRulesInvalid with the position", err)
	}
	for _, c := range api.takeCalls() {
		if strings.HasPrefix(c, "PATCH") || strings.HasSuffix(c, "/rulesets") {
			t.Errorf("Deploy(invalid) made call %q", c)
		}
	}
}

func TestNewDeployerValidates(t *testing.T) {
	for _, cfg := range []DeployConfig{{Bucket: "b"}, {Project: "p"}} {
		if _, err := NewDeployer(t.Context(), cfg, option.WithoutAuthentication()); err == nil {
			t.Errorf("NewDeployer(%+v) = nil error, want one", cfg)
		}
	}
}
