package deployplan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/deployplan/ -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("plan differs from %s (go test ./internal/deployplan/ -update rewrites it after a deliberate change):\n%s", path, firstDiff(string(got), string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func input(target Target) Input {
	return Input{
		Project: "my-project", Region: "europe-west1", DBLocation: "eur3", Bucket: "my-project.firebasestorage.app",
		Target: target, Image: "europe-west1-docker.pkg.dev/my-project/hearth/hearth:v1.2.3",
		ServiceAccount: "hearth", Runtime: "go126",
		Triggers: []Trigger{
			{Name: "onMessageWritten", EventType: "google.cloud.firestore.document.v1.written", Document: "rooms/{roomId}/messages/{messageId}"},
			{Name: "onMessageCreatedNotify", EventType: "google.cloud.firestore.document.v1.created", Document: "rooms/{roomId}/messages/{messageId}"},
		},
		Storage:    &StorageTrigger{Name: "onUploadFinalized", Path: "/events/storage"},
		Schedulers: []Scheduler{{Name: "presence-sweeper", Interval: 15 * time.Second}, {Name: "upload-expiry", Interval: 5 * time.Minute}},
		Services:   Services(),
		Grants:     Grants(),
		APIs:       APIs(target),
		TTLs:       TTLs(),
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   func() Input
	}{
		{"run.golden", func() Input { return input(TargetRun) }},
		{"functions.golden", func() Input { return input(TargetFunctions) }},
		{"run-no-media.golden", func() Input {
			in := input(TargetRun)
			in.Bucket, in.Storage = "", nil
			return in
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, tt.in()); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

// TestRenderEveryTrigger: each trigger of the input gets its own Eventarc trigger (or
// function), with its type and document pattern, and each scheduler its job.
func TestRenderEveryTrigger(t *testing.T) {
	in := input(TargetRun)
	var buf bytes.Buffer
	if err := Render(&buf, in); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if got, want := strings.Count(out, "gcloud eventarc triggers create "), len(in.Triggers)+1; got != want {
		t.Errorf("%d Eventarc triggers, want %d (one per trigger and the storage trigger)", got, want)
	}
	for _, tr := range in.Triggers {
		block := out[strings.Index(out, "--destination-run-path=/events/"+tr.Name+" "):]
		block = block[:strings.Index(block, "--service-account")]
		if !strings.Contains(block, "type="+tr.EventType) || !strings.Contains(block, "document='"+tr.Document+"'") {
			t.Errorf("trigger %s: block %q lacks its type or pattern", tr.Name, block)
		}
	}
	for _, s := range in.Schedulers {
		if !strings.Contains(out, "gcloud scheduler jobs create http hearth-"+s.Name+" ") || !strings.Contains(out, "/schedulers/"+s.Name+`"`) {
			t.Errorf("no Cloud Scheduler job for %s", s.Name)
		}
	}
	for _, g := range in.Grants {
		if !strings.Contains(out, "--role="+g.Role+"\n") && !strings.Contains(out, "--role="+g.Role+" ") {
			t.Errorf("role %s is not granted", g.Role)
		}
	}
}

// TestValidateRefuses: every value lands in a shell script, so anything that could
// break out of it (or is simply wrong) is refused, all problems at once.
func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Input)
		want string
	}{
		{"command in project", func(in *Input) { in.Project = "p$(rm -rf ~)" }, "project"},
		{"quote in region", func(in *Input) { in.Region = "eu'; echo" }, "region"},
		{"space in image", func(in *Input) { in.Image = "a b" }, "image"},
		{"quote in pattern", func(in *Input) { in.Triggers[0].Document = "rooms/'x" }, "document pattern"},
		{"not a Firestore event", func(in *Input) { in.Triggers[0].EventType = "google.cloud.storage.object.v1.finalized" }, "not a Firestore document event"},
		{"duplicate trigger", func(in *Input) { in.Triggers[1].Name = in.Triggers[0].Name }, "unique"},
		{"no triggers", func(in *Input) { in.Triggers = nil }, "no triggers"},
		{"storage without bucket", func(in *Input) { in.Bucket = "" }, "storage trigger without a bucket"},
		{"bad target", func(in *Input) { in.Target = "k8s" }, "target"},
		{"no events service", func(in *Input) { in.Services = in.Services[:1] }, "no events service"},
		{"zero interval", func(in *Input) { in.Schedulers[0].Interval = 0 }, "interval"},
		{"newline in comment", func(in *Input) { in.Services[0].Why = "a\nrm -rf /" }, "one-line"},
		{"comma in args", func(in *Input) { in.Services[0].Args = []string{"--role=api,x"} }, "argument"},
		{"bad role", func(in *Input) { in.Grants[0].Role = "owner" }, "roles/"},
		{"max below min", func(in *Input) {
			in.Services[2].MaxInstances = 0
			in.Services[2].MinInstances = 2
			in.Services[2].MaxInstances = 1
		}, "out of range"},
		{"bad ingress", func(in *Input) { in.Services[0].Ingress = "public" }, "ingress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(TargetRun)
			in.Services, in.Triggers, in.Schedulers = Services(), append([]Trigger(nil), in.Triggers...), append([]Scheduler(nil), in.Schedulers...)
			in.Grants = Grants()
			tt.mod(&in)
			var buf bytes.Buffer
			err := Render(&buf, in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render = %v, want an error about %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("a refused input printed %d bytes", buf.Len())
			}
		})
	}
}

func TestCron(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{15 * time.Second, "* * * * *"},
		{time.Minute, "* * * * *"},
		{90 * time.Second, "*/2 * * * *"},
		{7 * time.Minute, "*/10 * * * *"},
		{15 * time.Minute, "*/15 * * * *"},
		{time.Hour, "0 */1 * * *"},
		{5 * time.Hour, "0 */6 * * *"},
		{24 * time.Hour, "0 0 * * *"},
		{72 * time.Hour, "0 0 * * *"},
	}
	for _, tt := range tests {
		if got := Cron(tt.d); got != tt.want {
			t.Errorf("Cron(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestKebabName(t *testing.T) {
	if got := KebabName("onMembershipWrittenNotify"); got != "on-membership-written-notify" {
		t.Errorf("KebabName = %q", got)
	}
}

// TestServicesDifferByRole: each Cloud Run service runs `hearth serve` with its own
// role (--args=--role=<role>), so the services differ by what they serve and run.
func TestServicesDifferByRole(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	in := input(TargetRun)
	in.Services = Services()
	if err := Render(&buf, in); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range Services() {
		if len(s.Args) != 1 || s.Args[0] != "--role="+s.Role {
			t.Errorf("service %s: args %q, want [--role=%s]", s.Role, s.Args, s.Role)
		}
		deploy := "gcloud run deploy " + ServiceName(s.Role)
		i := strings.Index(out, deploy)
		if i < 0 {
			t.Errorf("plan has no %q", deploy)
			continue
		}
		cmd := out[i:]
		if end := strings.Index(cmd, "\n\n"); end >= 0 {
			cmd = cmd[:end]
		}
		if !strings.Contains(cmd, "--args=--role="+s.Role+" ") && !strings.Contains(cmd, "--args=--role="+s.Role+"\n") {
			t.Errorf("%s deploys without --args=--role=%s:\n%s", ServiceName(s.Role), s.Role, cmd)
		}
	}
}

// TestInvokerScopedToReceivers: roles/run.invoker lets $SA call private services, so it
// is granted on the services that receive Eventarc's and Cloud Scheduler's calls only,
// never on the project (where it would open every private service of the project, the
// worker included): with --target run on the events service, after it is deployed and
// before anything calls it; with --target functions on each function, after its deploy.
func TestInvokerScopedToReceivers(t *testing.T) {
	for _, target := range []Target{TargetRun, TargetFunctions} {
		in := input(target)
		var buf bytes.Buffer
		if err := Render(&buf, in); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, block := range strings.Split(out, "\ngcloud ") {
			if i := strings.Index(block, "\n#"); i >= 0 {
				block = block[:i] // the command only, not the comments after it
			}
			if strings.HasPrefix(block, "projects add-iam-policy-binding") && strings.Contains(block, "roles/run.invoker") {
				t.Errorf("%s: run.invoker granted on the project:\ngcloud %s", target, block)
			}
		}
		if target == TargetRun {
			grant := `gcloud run services add-iam-policy-binding hearth-events --project="$PROJECT" --region="$REGION"` +
				` --member="serviceAccount:$SA" --role=roles/run.invoker`
			at, deployed, first := strings.Index(out, grant), strings.Index(out, "gcloud run deploy hearth-events"),
				strings.Index(out, "gcloud eventarc triggers create")
			if at < 0 || at < deployed || at > first {
				t.Errorf("run: want %q after the events service's deploy (at %d) and before the first Eventarc trigger (at %d); at %d",
					grant, deployed, first, at)
			}
			if n := strings.Count(out, "--role=roles/run.invoker"); n != 1 {
				t.Errorf("run: run.invoker appears %d times, want once (the events service)", n)
			}
			continue
		}
		names := []string{"schedulers", in.Storage.Name}
		for _, tr := range in.Triggers {
			names = append(names, tr.Name)
		}
		for _, n := range names {
			grant := "gcloud functions add-invoker-policy-binding " + n + ` --project="$PROJECT" --region="$REGION" --member="serviceAccount:$SA"`
			at, deployed := strings.Index(out, grant), strings.Index(out, "gcloud functions deploy "+n+" ")
			if at < 0 || at < deployed {
				t.Errorf("functions: want %q after the deploy of %s (at %d); at %d", grant, n, deployed, at)
			}
		}
	}
}
