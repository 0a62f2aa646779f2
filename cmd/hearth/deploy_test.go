package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/functions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestDeployPlanGolden: the plans docs/deploy.md shows, from the real trigger list.
func TestDeployPlanGolden(t *testing.T) {
	for _, target := range []string{"run", "functions"} {
		t.Run(target, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := []string{"deploy", "plan", "--project", "my-project", "--region", "europe-west1", "--db-location", "eur3",
				"--target", target, "--image", "europe-west1-docker.pkg.dev/my-project/hearth/hearth:v1.0.0"}
			if code := run(t.Context(), args, &out, &errb); code != 0 {
				t.Fatalf("run(%q) = %d: %s", args, code, errb.String())
			}
			path := filepath.Join("testdata", "deploy-plan-"+target+".golden")
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/hearth/ -run TestDeployPlanGolden -update writes it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("hearth deploy plan --target %s differs from %s; after a deliberate change run go test ./cmd/hearth/ -run TestDeployPlanGolden -update and update docs/deploy.md", target, path)
			}
		})
	}
}

// TestDeployDocShowsPlan: docs/deploy.md shows the plan the code prints today.
func TestDeployDocShowsPlan(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := os.ReadFile(filepath.Join("testdata", "deploy-plan-run.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, plan) {
		t.Error("docs/deploy.md does not show testdata/deploy-plan-run.golden verbatim: paste the new plan into its \"The plan\" section")
	}
}

// TestDeployPlanCoversTriggers: every trigger the backend registers has its Eventarc
// trigger in the plan, and every scheduler its Cloud Scheduler job (app's
// TestManifestMatchesNew holds the manifest to what the composition root builds).
func TestDeployPlanCoversTriggers(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"deploy", "plan", "--project", "my-project", "--region", "europe-west1", "--db-location", "eur3"}, &out, &errb); code != 0 {
		t.Fatalf("deploy plan = %d: %s", code, errb.String())
	}
	names := functions.BuiltinTriggerNames()
	for _, n := range names {
		if !strings.Contains(out.String(), "--destination-run-path=/events/"+n+" ") {
			t.Errorf("plan has no Eventarc trigger for %s", n)
		}
	}
	if got := strings.Count(out.String(), "gcloud eventarc triggers create "); got != len(names)+1 {
		t.Errorf("plan has %d Eventarc triggers, want %d (one per trigger, and the storage one)", got, len(names)+1)
	}
	if !strings.Contains(out.String(), "--destination-run-path=/events/storage ") {
		t.Error("plan has no storage finalize trigger")
	}
	for _, s := range []string{functions.SchedulerPresenceSweeper, functions.SchedulerTypingCleanup, app.SchedulerPushFlusher, app.SchedulerMediaExpiry} {
		if !strings.Contains(out.String(), "/schedulers/"+s) {
			t.Errorf("plan has no Cloud Scheduler job for %s", s)
		}
	}
}

func TestDeployPlanRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"deploy"}, "Usage: hearth deploy plan"},
		{[]string{"deploy", "plan", "--region", "r1", "--db-location", "eur3"}, "required"},
		{[]string{"deploy", "plan", "--project", "my-project", "--region", "europe-west1", "--db-location", "eur3", "--target", "gke"}, "target"},
		{[]string{"deploy", "plan", "--project", "x;rm -rf /", "--region", "europe-west1", "--db-location", "eur3"}, "project"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := run(t.Context(), tt.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tt.want) || out.Len() != 0 {
			t.Errorf("run(%q) = %d, stdout %d bytes, stderr %q; want 2, nothing printed, an error about %q", tt.args, code, out.Len(), errb.String(), tt.want)
		}
	}
}

func TestImageTag(t *testing.T) {
	tests := []struct {
		v    versionInfo
		want string
	}{
		{versionInfo{Version: "v1.2.3", Commit: "abc"}, "v1.2.3"},
		{versionInfo{Version: "(devel)", Commit: "0123456789abcdef"}, "0123456789ab"},
		{versionInfo{Version: "(devel)", Commit: "unknown"}, "latest"},
	}
	for _, tt := range tests {
		if got := imageTag(tt.v); got != tt.want {
			t.Errorf("imageTag(%+v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestDeployPlanFunctionsCoversTriggers: with --target functions every trigger the
// composition root registers is a function, and so is the storage finalize trigger of
// the media checks, with the bucket's finalized events and the invoker grant.
func TestDeployPlanFunctionsCoversTriggers(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"deploy", "plan", "--project", "my-project", "--region", "europe-west1", "--db-location", "eur3",
		"--target", "functions"}, &out, &errb); code != 0 {
		t.Fatalf("deploy plan --target functions = %d: %s", code, errb.String())
	}
	plan := out.String()
	for _, n := range functions.BuiltinTriggerNames() {
		if !strings.Contains(plan, "gcloud functions deploy "+n+" --gen2") {
			t.Errorf("plan has no function for trigger %s", n)
		}
	}
	at := strings.Index(plan, "gcloud functions deploy onUploadFinalized --gen2")
	if at < 0 {
		t.Fatal("plan --target functions has no storage finalize function")
	}
	block := plan[at:]
	if end := strings.Index(block, "\n\n"); end > 0 {
		block = block[:end]
	}
	for _, want := range []string{"--trigger-event-filters=type=google.cloud.storage.object.v1.finalized", `--trigger-event-filters="bucket=$BUCKET"`,
		`--trigger-location="$BUCKET_LOCATION"`, "--retry", "gcloud functions add-invoker-policy-binding onUploadFinalized "} {
		if !strings.Contains(block, want) {
			t.Errorf("storage finalize function lacks %q:\n%s", want, block)
		}
	}
}
