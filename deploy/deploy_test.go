package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v2"

	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/emulator/emutest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const (
	dashboardFile  = "grafana/hearth.json"
	alertsFile     = "prometheus/alerts.yml"
	alertTestsFile = "prometheus/alerts_test.yml"
)

// promtool returns the path of promtool, failing the test with what to install when
// it is missing.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (apt-get install -y prometheus; `make deps` does it as root), " +
			"or put the promtool of a Prometheus release on PATH")
	}
	return p
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAlertRules: promtool checks the rules and runs their unit tests.
func TestAlertRules(t *testing.T) {
	runPromtool(t, "check", "rules", alertsFile)
	runPromtool(t, "test", "rules", alertTestsFile)
}

// alertRules is the part of a Prometheus rule file the tests read.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readAlerts(t *testing.T) alertRules {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var r alertRules
	if err := yaml.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	return r
}

// TestEveryAlertHasUnitTests: each alert of alerts.yml is the alertname of at least one
// test in alerts_test.yml.
func TestEveryAlertHasUnitTests(t *testing.T) {
	raw, err := os.ReadFile(alertTestsFile)
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				AlertName string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(raw, &tests); err != nil {
		t.Fatal(err)
	}
	firing := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			firing[a.AlertName] = firing[a.AlertName] || len(a.ExpAlerts) > 0
		}
	}
	n := 0
	for _, g := range readAlerts(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if !firing[r.Alert] {
				t.Errorf("alert %s has no unit test in which it fires", r.Alert)
			}
		}
	}
	if n == 0 {
		t.Fatal("no alerts read")
	}
}

// dashboard is the part of Grafana's dashboard JSON model the tests check.
type dashboard struct {
	Title         *string `json:"title"`
	UID           *string `json:"uid"`
	SchemaVersion *int    `json:"schemaVersion"`
	Editable      *bool   `json:"editable"`
	Time          *struct{ From, To string }
	Panels        []panel `json:"panels"`
	Templating    *struct{ List []variable }
	Annotations   json.RawMessage `json:"annotations"`
	Tags          []string        `json:"tags"`
	Version       *int            `json:"version"`
}

type panel struct {
	ID         *int        `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y *int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasource     `json:"datasource"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// panelTypes are the panel plugins built into Grafana (10 and 11) this dashboard may use.
var panelTypes = []string{"row", "timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap", "piechart", "state-timeline", "logs"}

// TestDashboardModel checks grafana/hearth.json against Grafana's dashboard JSON
// model: the fields an import needs (title, uid, schemaVersion, panels, time), unique
// panel ids, known panel types, grid positions inside the 24-column grid, unique refIds
// per panel, and datasource references that all name the dashboard's Prometheus
// datasource variable (so the import asks for one datasource and nothing is bound to
// a uid of the author's Grafana).
func TestDashboardModel(t *testing.T) {
	d := readDashboard(t)
	switch {
	case d.Title == nil || *d.Title == "":
		t.Error("no title")
	case d.UID == nil || !regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`).MatchString(*d.UID):
		t.Errorf("uid %v: want 1..40 of [a-zA-Z0-9_-]", d.UID)
	case d.SchemaVersion == nil || *d.SchemaVersion < 36:
		t.Errorf("schemaVersion %v: want 36 or later (datasource references as objects)", d.SchemaVersion)
	case d.Time == nil || d.Time.From == "" || d.Time.To == "":
		t.Error("no time range")
	case d.Templating == nil:
		t.Fatal("no templating")
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		if v.Name == "" || v.Type == "" {
			t.Errorf("template variable %+v lacks name or type", v)
		}
		vars[v.Name] = v
	}
	dsVar, ok := vars["datasource"]
	if !ok || dsVar.Type != "datasource" || string(dsVar.Query) != `"prometheus"` {
		t.Fatalf("template variable datasource = %+v, want a datasource variable of type prometheus", dsVar)
	}
	checkRef := func(where string, ds *datasource) {
		if ds == nil || ds.Type != "prometheus" || ds.UID != "${datasource}" {
			t.Errorf("%s: datasource %+v, want {type: prometheus, uid: ${datasource}}", where, ds)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			checkRef("variable "+v.Name, v.Datasource)
		}
	}
	ids := map[int]string{}
	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	if len(all) == 0 {
		t.Fatal("no panels")
	}
	for _, p := range all {
		where := fmt.Sprintf("panel %q", p.Title)
		if p.ID == nil || *p.ID <= 0 {
			t.Errorf("%s: no positive id", where)
		} else if other, dup := ids[*p.ID]; dup {
			t.Errorf("%s: id %d is also panel %q's", where, *p.ID, other)
		} else {
			ids[*p.ID] = p.Title
		}
		if !slices.Contains(panelTypes, p.Type) {
			t.Errorf("%s: type %q is not a built-in panel type", where, p.Type)
		}
		if p.Title == "" {
			t.Errorf("panel %v has no title", p.ID)
		}
		g := p.GridPos
		if g == nil || g.H == nil || g.W == nil || g.X == nil || g.Y == nil {
			t.Errorf("%s: gridPos needs h, w, x and y", where)
		} else if *g.W < 1 || *g.H < 1 || *g.X < 0 || *g.Y < 0 || *g.X+*g.W > 24 {
			t.Errorf("%s: gridPos %d,%d %dx%d is outside the 24-column grid", where, *g.X, *g.Y, *g.W, *g.H)
		}
		if p.Type == "row" {
			if len(p.Targets) > 0 {
				t.Errorf("%s: a row has no queries", where)
			}
			continue
		}
		checkRef(where, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: refId %q missing or repeated", where, tg.RefID)
			}
			refs[tg.RefID] = true
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: query %s has no expr", where, tg.RefID)
			}
			checkRef(where+" query "+tg.RefID, tg.Datasource)
		}
	}
}

// dashboardExprs returns every PromQL expression of the dashboard (queries and query
// variables), with Grafana's variables replaced by values Prometheus parses.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	d := readDashboard(t)
	grafanaVars := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", `"$route"`, `".*"`)
	out := map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out[fmt.Sprintf("panel %q query %s", p.Title, tg.RefID)] = grafanaVars.Replace(tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s query: %v", v.Name, err)
		}
		// label_values(metric, label) is Grafana's, not PromQL: its metric is checked.
		if m := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),\s*\w+\)$`).FindStringSubmatch(q.Query); m != nil {
			out["variable "+v.Name] = m[1]
		} else {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, q.Query)
		}
	}
	return out
}

// TestDashboardPromQL: promtool parses every query of the dashboard (written as
// recording rules, the one way promtool checks arbitrary expressions).
func TestDashboardPromQL(t *testing.T) {
	exprs := dashboardExprs(t)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	var names []string
	for k := range exprs {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: exprs[k]})
	}
	raw, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", file)
}

// metricRef finds the metric names of Hearth's families in an expression: identifiers
// with the prefixes Hearth's and the client library's collectors use. Label names and
// values never carry them (the label values inside braces are stripped first).
var (
	metricRef   = regexp.MustCompile(`\b(?:hearth|go|process)_[a-zA-Z0-9_:]*`)
	quotedValue = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

func metricNames(expr string) []string {
	return metricRef.FindAllString(quotedValue.ReplaceAllString(expr, `""`), -1)
}

// registered builds the whole backend as `hearth serve` does (app.New, on the
// emulator suite) and returns the families its registry holds, by name, with their
// type where a series exists.
func registered(t *testing.T) map[string]string {
	t.Helper()
	env := emutest.New(t)
	t.Setenv("HEARTH_FIRESTORE_PROJECT", env.ProjectID)
	t.Setenv("HEARTH_AUTH_PROJECT", env.AuthProjectID)
	t.Setenv("HEARTH_STORAGE_BUCKET", env.Bucket)
	cfg, err := app.LoadConfig(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.WithoutCancel(t.Context()), cfg, app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(a.Close)
	// One request, so that the API's request histogram has a series (and a type).
	a.API.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))

	out := map[string]string{}
	descs := make(chan *prometheus.Desc)
	go func() {
		a.Registry.Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			out[m[1]] = ""
		}
	}
	fams, err := a.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		out[f.GetName()] = dto.MetricType_name[int32(f.GetType())]
	}
	return out
}

// TestMetricNamesExist: every metric the dashboard's queries and the alert rules (and
// the series of the alerts' unit tests) use is a family Hearth registers; _bucket,
// _sum and _count only of a histogram.
func TestMetricNamesExist(t *testing.T) {
	fams := registered(t)
	if _, ok := fams["hearth_functions_event_age_seconds"]; !ok {
		t.Fatalf("the registry lacks the functions metrics: %v", fams)
	}
	used := map[string][]string{} // metric -> where
	// Every expression must name at least one metric of those prefixes: one that used
	// only another name would otherwise go unchecked.
	for where, e := range dashboardExprs(t) {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("%s: %s: no hearth_, go_ or process_ metric in %q", dashboardFile, where, e)
		}
		for _, n := range names {
			used[n] = append(used[n], dashboardFile+": "+where)
		}
	}
	for _, g := range readAlerts(t).Groups {
		for _, r := range g.Rules {
			names := metricNames(r.Expr)
			if len(names) == 0 {
				t.Errorf("%s: %s: no hearth_, go_ or process_ metric in %q", alertsFile, r.Alert, r.Expr)
			}
			for _, n := range names {
				used[n] = append(used[n], alertsFile+": "+r.Alert)
			}
		}
	}
	raw, err := os.ReadFile(alertTestsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range metricNames(string(raw)) {
		used[n] = append(used[n], alertTestsFile)
	}
	if len(used) < 10 {
		t.Fatalf("only %d metric names found: %v", len(used), used)
	}
	for name, where := range used {
		if _, ok := fams[name]; ok {
			continue
		}
		found := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, cut := strings.CutSuffix(name, suffix)
			if !cut {
				continue
			}
			typ, ok := fams[base]
			switch {
			case !ok:
			case typ == "HISTOGRAM" || (typ == "SUMMARY" && suffix != "_bucket"):
				found = true
			default:
				t.Errorf("%s (used by %s): %s is a %q, not a histogram", name, where[0], base, typ)
				found = true
			}
		}
		if !found {
			t.Errorf("%s (used by %s) is not a metric Hearth registers", name, strings.Join(where, "; "))
		}
	}
}
