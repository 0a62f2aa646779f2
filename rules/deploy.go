package rules

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/api/firebaserules/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// DeployConfig says where Deployer publishes the rules.
type DeployConfig struct {
	// Project is the Firebase (Google Cloud) project id.
	Project string
	// Bucket is the Cloud Storage bucket whose rules are released
	// (firebase.storage/BUCKET), e.g. "my-app.firebasestorage.app".
	Bucket string
}

// Deployer publishes the rendered rules through the Firebase Rules API: it
// creates a ruleset from the source and points the release at it, as
// `firebase deploy --only firestore:rules,storage` does. Firestore's release
// is "cloud.firestore" (the default database), Storage's
// "firebase.storage/BUCKET".
type Deployer struct {
	cfg DeployConfig
	svc *firebaserules.Service
}

// NewDeployer returns a Deployer for cfg. Without opts it uses Application
// Default Credentials (gcloud auth application-default login, or the service
// account of the machine); opts can name a key file or, in tests, another
// endpoint.
func NewDeployer(ctx context.Context, cfg DeployConfig, opts ...option.ClientOption) (*Deployer, error) {
	if cfg.Project == "" {
		return nil, errors.New("rules: DeployConfig.Project is empty")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("rules: DeployConfig.Bucket is empty")
	}
	svc, err := firebaserules.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("firebase rules client: %w", err)
	}
	return &Deployer{cfg: cfg, svc: svc}, nil
}

// Change is one release: what it runs now and what the rendered rules would
// make it run.
type Change struct {
	// Release is the release's full name,
	// "projects/P/releases/cloud.firestore".
	Release string
	// File is the source file name inside the ruleset ("firestore.rules").
	File string
	// CurrentRuleset is the ruleset the release points at now; "" when the
	// release does not exist yet.
	CurrentRuleset string
	// Current is the source the release runs now ("" when none) and New the
	// rendered one.
	Current, New string
	// NewRuleset is the ruleset created by Deploy; "" in a plan or when
	// nothing changed.
	NewRuleset string
}

// Changed reports whether deploying would change what the release runs.
func (c Change) Changed() bool { return c.Current != c.New }

// Diff is a unified diff from the current to the new source ("" when equal).
func (c Change) Diff() string {
	return unifiedDiff(c.Current, c.New, c.Release+" (current)", c.Release+" (rendered)")
}

// Plan renders the rules, compiles them on the Rules API (projects.test, so a
// rule the service rejects shows up before anything changes) and compares
// them with what each release runs now. It changes nothing.
func (d *Deployer) Plan(ctx context.Context) ([]Change, error) {
	fsRules, stRules, err := Render()
	if err != nil {
		return nil, err
	}
	project := "projects/" + d.cfg.Project
	changes := []Change{
		{Release: project + "/releases/cloud.firestore", File: "firestore.rules", New: string(fsRules)},
		{Release: project + "/releases/firebase.storage/" + d.cfg.Bucket, File: "storage.rules", New: string(stRules)},
	}
	for i := range changes {
		c := &changes[i]
		if err := d.check(ctx, c.File, c.New); err != nil {
			return nil, err
		}
		rel, err := d.svc.Projects.Releases.Get(c.Release).Context(ctx).Do()
		if isRulesAPINotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get release %s: %w", c.Release, err)
		}
		c.CurrentRuleset = rel.RulesetName
		rs, err := d.svc.Projects.Rulesets.Get(rel.RulesetName).Context(ctx).Do()
		if err != nil {
			return nil, fmt.Errorf("get ruleset %s: %w", rel.RulesetName, err)
		}
		if rs.Source != nil {
			var parts []string
			for _, f := range rs.Source.Files {
				parts = append(parts, f.Content)
			}
			c.Current = strings.Join(parts, "\n")
		}
	}
	return changes, nil
}

// ErrRulesInvalid is wrapped when the Rules API finds errors in the rendered
// source.
var ErrRulesInvalid = errors.New("rules do not compile")

// check compiles src on the Rules API.
func (d *Deployer) check(ctx context.Context, file, src string) error {
	resp, err := d.svc.Projects.Test("projects/"+d.cfg.Project, &firebaserules.TestRulesetRequest{
		Source: &firebaserules.Source{Files: []*firebaserules.File{{Name: file, Content: src}}},
	}).Context(ctx).Do()
	if err != nil {
		return fmt.Errorf("check %s: %w", file, err)
	}
	var errs []string
	for _, is := range resp.Issues {
		if is.Severity != "ERROR" {
			continue
		}
		pos := ""
		if p := is.SourcePosition; p != nil {
			pos = fmt.Sprintf(":%d:%d", p.Line, p.Column)
		}
		errs = append(errs, file+pos+": "+is.Description)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrRulesInvalid, strings.Join(errs, "; "))
	}
	return nil
}

// Deploy runs Plan and publishes every changed release: a new ruleset from
// the rendered source, then the release pointed at it (created when it does
// not exist). Unchanged releases are left alone, so repeated deploys do not
// pile up rulesets (a project keeps at most 2500). It returns the plan with
// NewRuleset filled in.
func (d *Deployer) Deploy(ctx context.Context) ([]Change, error) {
	changes, err := d.Plan(ctx)
	if err != nil {
		return nil, err
	}
	project := "projects/" + d.cfg.Project
	for i := range changes {
		c := &changes[i]
		if !c.Changed() {
			continue
		}
		rs, err := d.svc.Projects.Rulesets.Create(project, &firebaserules.Ruleset{
			Source: &firebaserules.Source{Files: []*firebaserules.File{{Name: c.File, Content: c.New}}},
		}).Context(ctx).Do()
		if err != nil {
			return changes, fmt.Errorf("create ruleset for %s: %w", c.Release, err)
		}
		rel := &firebaserules.Release{Name: c.Release, RulesetName: rs.Name}
		_, err = d.svc.Projects.Releases.Patch(c.Release, &firebaserules.UpdateReleaseRequest{Release: rel}).Context(ctx).Do()
		if isRulesAPINotFound(err) {
			_, err = d.svc.Projects.Releases.Create(project, rel).Context(ctx).Do()
		}
		if err != nil {
			return changes, fmt.Errorf("release %s: %w", c.Release, err)
		}
		c.NewRuleset = rs.Name
	}
	return changes, nil
}

// isRulesAPINotFound reports a 404 of the Firebase Rules REST API (a *googleapi.Error).
// It is not firestoreerr.IsNotFound, which reads the gRPC status of the Firestore client.
func isRulesAPINotFound(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusNotFound
}
