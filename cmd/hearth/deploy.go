package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"

	"github.com/hearth-chat/hearth/app"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/deployplan"
)

// runDeploy is `hearth deploy plan`.
func runDeploy(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "plan" {
		fmt.Fprintln(stderr, "Usage: hearth deploy plan --project P --region R --db-location L [--target run|functions] [flags]")
		return 2
	}
	fs := flag.NewFlagSet("deploy plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hearth deploy plan --project P --region R --db-location L [flags]\n\n"+
			"Prints every command that deploys Hearth to Google Cloud, in order, as a bash script (docs/deploy.md).\n\nFlags:")
		fs.PrintDefaults()
	}
	project := fs.String("project", "", "Google Cloud project id (required)")
	region := fs.String("region", "", "region of Cloud Run, Cloud Functions and Cloud Scheduler, e.g. europe-west1 (required)")
	dbLocation := fs.String("db-location", "", "location of the Firestore database, e.g. eur3 or nam5 (required): Firestore triggers are created there")
	target := fs.String("target", "run", "where the triggers run: run (Cloud Run + Eventarc) or functions (Cloud Functions 2nd gen)")
	bucket := fs.String("bucket", "", "Cloud Storage bucket of uploads (default PROJECT.firebasestorage.app; \"none\": no media)")
	image := fs.String("image", "", "image reference (default REGION-docker.pkg.dev/PROJECT/hearth/hearth:VERSION)")
	account := fs.String("service-account", "hearth", "account id of the service account to create")
	rt := fs.String("runtime", "go126", "Cloud Functions runtime (--target functions); it must match go.mod's Go version")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hearth deploy plan: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *project == "" || *region == "" || *dbLocation == "" {
		fmt.Fprintln(stderr, "hearth deploy plan: --project, --region and --db-location are required")
		return 2
	}
	switch *bucket {
	case "":
		*bucket = *project + ".firebasestorage.app"
	case "none":
		*bucket = ""
	}
	if *image == "" {
		info, _ := debug.ReadBuildInfo()
		*image = fmt.Sprintf("%s-docker.pkg.dev/%s/hearth/hearth:%s", *region, *project, imageTag(buildVersion(version, commit, info)))
	}
	m, err := planManifest(*bucket)
	if err != nil {
		fmt.Fprintln(stderr, "hearth deploy plan:", err)
		return 2
	}
	in := deployplan.Input{
		Project: *project, Region: *region, DBLocation: *dbLocation, Bucket: *bucket,
		Target: deployplan.Target(*target), Image: *image, ServiceAccount: *account, Runtime: *rt,
		Triggers:   planTriggers(m.Triggers),
		Schedulers: planSchedulers(m.Schedulers),
		Services:   deployplan.Services(),
		Grants:     deployplan.Grants(),
		APIs:       deployplan.APIs(deployplan.Target(*target)),
		TTLs:       deployplan.TTLs(),
	}
	if m.StorageEventsPath != "" {
		in.Storage = &deployplan.StorageTrigger{Name: storageTriggerName, Path: m.StorageEventsPath}
	}
	if err := deployplan.Render(stdout, in); err != nil {
		fmt.Fprintln(stderr, "hearth deploy plan:", err)
		return 2
	}
	return 0
}

// storageTriggerName names the storage finalize trigger (the Eventarc trigger, and the
// function under --target functions).
const storageTriggerName = "onUploadFinalized"

// planManifest is what the composition root wires with the default settings and the
// plan's bucket: the same triggers and schedulers `hearth serve` runs.
func planManifest(bucket string) (app.Manifest, error) {
	cfg, err := app.ParseEnv(func(string) (string, bool) { return "", false })
	if err != nil {
		return app.Manifest{}, err
	}
	cfg.API.StorageBucket = bucket
	return app.NewManifest(cfg)
}

func planTriggers(ts []functions.Trigger) []deployplan.Trigger {
	out := make([]deployplan.Trigger, 0, len(ts))
	for _, t := range ts {
		out = append(out, deployplan.Trigger{Name: t.Name, EventType: t.EventType, Document: t.Document})
	}
	return out
}

func planSchedulers(ss []functions.Scheduler) []deployplan.Scheduler {
	out := make([]deployplan.Scheduler, 0, len(ss))
	for _, s := range ss {
		out = append(out, deployplan.Scheduler{Name: s.Name, Interval: s.Every})
	}
	return out
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// imageTag is the image tag of a build: its version when that is a valid tag, else the
// commit's first 12 digits, else "latest".
func imageTag(v versionInfo) string {
	if tagRE.MatchString(v.Version) {
		return v.Version
	}
	if len(v.Commit) >= 12 && tagRE.MatchString(v.Commit[:12]) {
		return v.Commit[:12]
	}
	return "latest"
}
