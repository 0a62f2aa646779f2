// Package deployplan renders the Google Cloud commands that deploy Hearth, in order,
// from a plain description: the triggers the composition root registers, the
// schedulers, the Cloud Run services (one per role) and the service account's roles.
// Nothing is hand-listed in the recipe, so a trigger added in code cannot be forgotten
// in the deployment. The output is a bash script: review it, then run it.
package deployplan

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Target is where the triggers run.
type Target string

// Targets.
const (
	// TargetRun: the image on Cloud Run (one service per role), Eventarc triggers
	// delivering to the events service's /events/{name}.
	TargetRun Target = "run"
	// TargetFunctions: one Cloud Function (2nd gen) per trigger, built from source by
	// Google's Go buildpack; the API and the worker still run the image on Cloud Run.
	TargetFunctions Target = "functions"
)

// Input is everything a plan is made of.
type Input struct {
	Project    string // Google Cloud project id
	Region     string // where Cloud Run, Cloud Functions and Cloud Scheduler run
	DBLocation string // the Firestore database's location: Firestore triggers live there
	Bucket     string // the Cloud Storage bucket of uploads (empty: no media)
	Target     Target
	Image      string // image reference the services run (pushed in the image step)
	// ServiceAccount is the account id (the part before @) of the one service account
	// that runs the code and signs the OIDC tokens of Eventarc and Cloud Scheduler.
	ServiceAccount string
	// Runtime is the Cloud Functions runtime (TargetFunctions), e.g. "go126".
	Runtime string

	Triggers   []Trigger
	Storage    *StorageTrigger // nil: no storage trigger (no media)
	Schedulers []Scheduler
	Services   []Service
	Grants     []Grant
	APIs       []string // services to enable, e.g. "run.googleapis.com"
	TTLs       []TTL    // Firestore TTL policies
}

// TTL is one Firestore TTL policy: documents of CollectionGroup are deleted after the
// timestamp in Field (Hearth writes it).
type TTL struct {
	CollectionGroup string
	Field           string
	Why             string
	Media           bool // only with a bucket
}

// Trigger is one Firestore trigger as the composition root registers it.
type Trigger struct {
	Name      string // e.g. "onMessageWritten": /events/{Name}, the function's name
	EventType string // google.cloud.firestore.document.v1.written, .created, ...
	Document  string // document pattern, e.g. "rooms/{roomId}/messages/{messageId}"
}

// StorageTrigger routes the bucket's finalized objects to the media checks.
type StorageTrigger struct {
	Name string // trigger and function name, e.g. "onUploadFinalized"
	Path string // path on the events service, e.g. "/events/storage"
}

// Scheduler is one periodic job, called by Cloud Scheduler at POST /schedulers/{Name}.
type Scheduler struct {
	Name     string
	Interval time.Duration // Cloud Scheduler's finest schedule is a minute
}

// Service is one Cloud Run service: a role of `hearth serve` with its settings.
type Service struct {
	Role         string        // "api", "events", "worker"
	Memory       string        // e.g. "512Mi"
	CPU          string        // e.g. "1"
	Concurrency  int           // requests per instance
	Timeout      time.Duration // request timeout
	MinInstances int
	MaxInstances int  // 0: Cloud Run's default
	AlwaysOnCPU  bool // --no-cpu-throttling: CPU outside requests (background loops)
	// Public: --allow-unauthenticated (apps call it with Firebase ID tokens); otherwise
	// only callers with roles/run.invoker get through.
	Public bool
	// Ingress: "all", "internal", "internal-and-cloud-load-balancing".
	Ingress string
	// Events: the service receives Eventarc and Cloud Scheduler calls: HEARTH_EVENTS=on
	// and the OIDC audience and account are set.
	Events bool
	Args   []string // appended to the image's entrypoint (`hearth serve`)
	Why    string   // one line for the plan's comment
}

// Scope is where a role is granted.
type Scope string

// Scopes.
const (
	ScopeProject      Scope = "project"       // the service account, on the project
	ScopeBucket       Scope = "bucket"        // the service account, on the bucket
	ScopeSelf         Scope = "self"          // the service account, on itself (signBlob)
	ScopeStorageAgent Scope = "storage-agent" // the project's Cloud Storage service agent
	// ScopeReceivers: the service account, on each private service that receives
	// Eventarc's and Cloud Scheduler's calls only (the events service, or each
	// function), granted right after that service is deployed. For
	// roles/run.invoker: on the project it would let the account call every
	// private service of the project.
	ScopeReceivers Scope = "receivers"
)

// Grant is one IAM role binding.
type Grant struct {
	Role  string // e.g. "roles/datastore.user"
	Scope Scope
	Why   string
	Media bool // only with a bucket
}

// ServiceName is the Cloud Run service name of a role.
func ServiceName(role string) string { return "hearth-" + role }

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	regionRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{1,40}[0-9a-z]$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,40}$`)
	schedRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,40}$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
	safeRE    = regexp.MustCompile(`^[A-Za-z0-9._:/@{}=+-]+$`)
	pathRE    = regexp.MustCompile(`^/[a-z0-9/_-]{1,100}$`)
	roleRE    = regexp.MustCompile(`^roles/[A-Za-z0-9.]+$`)
	apiRE     = regexp.MustCompile(`^[a-z0-9.-]+\.googleapis\.com$`)
	memRE     = regexp.MustCompile(`^[0-9]{1,5}(Mi|Gi)$`)
	cpuRE     = regexp.MustCompile(`^([1-8]|0\.[0-9]{1,3})$`)
	roleNmRE  = regexp.MustCompile(`^[a-z]{1,20}$`)
	docRE     = regexp.MustCompile(`^[A-Za-z0-9_{}/-]{1,200}$`)
)

// Validate checks every field: everything ends up in a shell script, so only values
// of the expected shape (no quotes, no spaces, no $) get through.
func (in Input) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !projectRE.MatchString(in.Project) {
		bad("project %q: want a project id (6 to 30 lowercase letters, digits, hyphens)", in.Project)
	}
	if !regionRE.MatchString(in.Region) {
		bad("region %q: want a region such as europe-west1", in.Region)
	}
	if !regionRE.MatchString(in.DBLocation) {
		bad("db location %q: want the Firestore location, such as eur3, nam5 or europe-west1", in.DBLocation)
	}
	if in.Bucket != "" && !bucketRE.MatchString(in.Bucket) {
		bad("bucket %q: want a bucket name", in.Bucket)
	}
	if in.Target != TargetRun && in.Target != TargetFunctions {
		bad("target %q: want run or functions", in.Target)
	}
	if !safeRE.MatchString(in.Image) || len(in.Image) > 300 {
		bad("image %q: want an image reference", in.Image)
	}
	if !schedRE.MatchString(in.ServiceAccount) || len(in.ServiceAccount) < 6 {
		bad("service account %q: want an account id (6 to 30 lowercase letters, digits, hyphens)", in.ServiceAccount)
	}
	if in.Target == TargetFunctions && !nameRE.MatchString(in.Runtime) {
		bad("runtime %q: want a Cloud Functions runtime such as go126", in.Runtime)
	}
	if len(in.Triggers) == 0 {
		bad("no triggers")
	}
	seen := map[string]bool{}
	for _, t := range in.Triggers {
		if !nameRE.MatchString(t.Name) || seen[t.Name] {
			bad("trigger name %q: want a unique name of letters and digits", t.Name)
		}
		seen[t.Name] = true
		if !strings.HasPrefix(t.EventType, "google.cloud.firestore.document.v1.") || !safeRE.MatchString(t.EventType) {
			bad("trigger %s: event type %q is not a Firestore document event", t.Name, t.EventType)
		}
		if !docRE.MatchString(t.Document) || strings.HasPrefix(t.Document, "/") {
			bad("trigger %s: document pattern %q", t.Name, t.Document)
		}
	}
	if in.Storage != nil {
		if in.Bucket == "" {
			bad("storage trigger without a bucket")
		}
		if !nameRE.MatchString(in.Storage.Name) || seen[in.Storage.Name] {
			bad("storage trigger name %q", in.Storage.Name)
		}
		if !pathRE.MatchString(in.Storage.Path) {
			bad("storage trigger path %q", in.Storage.Path)
		}
	}
	for _, s := range in.Schedulers {
		if !schedRE.MatchString(s.Name) {
			bad("scheduler name %q: want lowercase letters, digits, hyphens", s.Name)
		}
		if s.Interval <= 0 {
			bad("scheduler %s: interval %v", s.Name, s.Interval)
		}
	}
	roles := map[string]bool{}
	for _, s := range in.Services {
		if !roleNmRE.MatchString(s.Role) || roles[s.Role] {
			bad("service role %q: want a unique lowercase word", s.Role)
		}
		roles[s.Role] = true
		if !memRE.MatchString(s.Memory) || !cpuRE.MatchString(s.CPU) {
			bad("service %s: memory %q, cpu %q", s.Role, s.Memory, s.CPU)
		}
		if s.Concurrency < 1 || s.Concurrency > 1000 || s.Timeout < time.Second || s.Timeout > time.Hour ||
			s.MinInstances < 0 || s.MaxInstances < 0 || (s.MaxInstances > 0 && s.MaxInstances < s.MinInstances) {
			bad("service %s: concurrency %d, timeout %v, instances %d..%d out of range", s.Role, s.Concurrency, s.Timeout, s.MinInstances, s.MaxInstances)
		}
		switch s.Ingress {
		case "all", "internal", "internal-and-cloud-load-balancing":
		default:
			bad("service %s: ingress %q", s.Role, s.Ingress)
		}
		for _, a := range s.Args {
			if !safeRE.MatchString(a) || strings.Contains(a, ",") {
				bad("service %s: argument %q", s.Role, a)
			}
		}
		if strings.ContainsAny(s.Why, "\n\r") {
			bad("service %s: one-line comment", s.Role)
		}
	}
	if !roles["events"] {
		bad("no events service: Eventarc and Cloud Scheduler need one")
	}
	for _, g := range in.Grants {
		if !roleRE.MatchString(g.Role) {
			bad("grant %q: want roles/...", g.Role)
		}
		switch g.Scope {
		case ScopeProject, ScopeBucket, ScopeSelf, ScopeStorageAgent, ScopeReceivers:
		default:
			bad("grant %s: scope %q", g.Role, g.Scope)
		}
		if strings.ContainsAny(g.Why, "\n\r") {
			bad("grant %s: one-line comment", g.Role)
		}
	}
	for _, a := range in.APIs {
		if !apiRE.MatchString(a) {
			bad("API %q", a)
		}
	}
	return errors.Join(errs...)
}

// Cron returns the Cloud Scheduler schedule for an interval: every N minutes or hours,
// rounded up to what cron can say; under a minute it is every minute (the finest).
func Cron(d time.Duration) string {
	mins := int((d + time.Minute - 1) / time.Minute)
	switch {
	case mins <= 1:
		return "* * * * *"
	case mins < 60:
		for 60%mins != 0 {
			mins++ // */7 would drift at the hour; take the next divisor of 60
		}
		return fmt.Sprintf("*/%d * * * *", mins)
	case mins < 24*60:
		h := (mins + 59) / 60
		for 24%h != 0 {
			h++
		}
		if h == 24 {
			return "0 0 * * *"
		}
		return fmt.Sprintf("0 */%d * * *", h)
	}
	return "0 0 * * *"
}

// KebabName turns a trigger name into a resource name: onMessageWritten →
// on-message-written.
func KebabName(name string) string {
	var b strings.Builder
	for i, r := range name {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
