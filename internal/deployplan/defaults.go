package deployplan

import "time"

// Services returns Hearth's Cloud Run services, one per role of `hearth serve
// --role=...` (the Args after the image's entrypoint, `hearth serve`), with the settings
// each needs:
//   - api: the apps' /v1 and /admin/v1, health and metrics; request-bound work only, so
//     it scales to zero with CPU during requests;
//   - events: Eventarc's /events/* and Cloud Scheduler's /schedulers/*, private (IAM and
//     the in-process OIDC check); a trigger fans out to many documents, so fewer
//     requests per instance and a longer timeout;
//   - worker: the loops that need CPU outside requests (the push flusher looks for due
//     digests every second): one instance, always on.
func Services() []Service {
	return []Service{
		{Role: "api", Memory: "512Mi", CPU: "1", Concurrency: 80, Timeout: 60 * time.Second, MinInstances: 0,
			Public: true, Ingress: "all", Args: []string{"--role=api"},
			Why: "apps call /v1 and /admin/v1 with Firebase ID tokens; scales to zero"},
		{Role: "events", Memory: "512Mi", CPU: "1", Concurrency: 20, Timeout: 300 * time.Second, MinInstances: 0,
			Ingress: "all", Events: true, Args: []string{"--role=events"},
			Why: "Eventarc and Cloud Scheduler only (IAM, then the OIDC check in process); scales to zero"},
		{Role: "worker", Memory: "512Mi", CPU: "1", Concurrency: 10, Timeout: 60 * time.Second, MinInstances: 1, MaxInstances: 1,
			AlwaysOnCPU: true, Ingress: "internal", Args: []string{"--role=worker"},
			Why: "the push flusher runs between requests: one instance with CPU always allocated"},
	}
}

// Grants returns every role Hearth's service account needs, and the Storage service
// agent's.
func Grants() []Grant {
	return []Grant{
		{Role: "roles/datastore.user", Scope: ScopeProject, Why: "Firestore for the API, the triggers, the schedulers and the revocation markers"},
		{Role: "roles/firebasecloudmessaging.admin", Scope: ScopeProject, Why: "the push notifier's FCM sends"},
		{Role: "roles/firebaseauth.admin", Scope: ScopeProject, Why: "/admin/v1 reads and changes accounts (disable, claims, erase)"},
		{Role: "roles/eventarc.eventReceiver", Scope: ScopeProject, Why: "the Eventarc triggers act as this account"},
		{Role: "roles/run.invoker", Scope: ScopeReceivers, Why: "Eventarc and Cloud Scheduler call the private events service (or each function) with its tokens"},
		{Role: "roles/firebaserules.admin", Scope: ScopeProject, Why: "hearth rules deploy, when it runs as this account (CI); drop it if a person deploys the rules"},
		{Role: "roles/storage.objectAdmin", Scope: ScopeBucket, Media: true, Why: "uploads: read, write, delete objects of the bucket only"},
		{Role: "roles/iam.serviceAccountTokenCreator", Scope: ScopeSelf, Media: true, Why: "signBlob on itself: signed upload and download URLs without a key file"},
		{Role: "roles/pubsub.publisher", Scope: ScopeStorageAgent, Media: true, Why: "the Cloud Storage service agent publishes the finalize events Eventarc delivers"},
	}
}

// TTLs returns the Firestore TTL policies of the documents Hearth derives and never
// deletes itself; each sets expireAt when it writes them (docs/deploy.md).
func TTLs() []TTL {
	return []TTL{
		{CollectionGroup: "tallies", Field: "expireAt", Why: "a message's tally, 90 days after the message (model.TallyRetention)"},
		{CollectionGroup: "reportQuotas", Field: "expireAt", Why: "a reporter's hourly quota, a day after its hour"},
		{CollectionGroup: "mentionQuotas", Field: "expireAt", Why: "a sender's mention-push quota, a day after its minute"},
		{CollectionGroup: "uploadQuotas", Field: "expireAt", Media: true, Why: "a user's daily upload quota, a day after its day"},
	}
}

// APIs returns the Google APIs a target uses.
func APIs(t Target) []string {
	apis := []string{
		"firestore.googleapis.com", "run.googleapis.com", "eventarc.googleapis.com",
		"cloudscheduler.googleapis.com", "artifactregistry.googleapis.com", "iam.googleapis.com",
		"iamcredentials.googleapis.com", "fcm.googleapis.com", "identitytoolkit.googleapis.com",
		"firebaserules.googleapis.com", "pubsub.googleapis.com", "storage.googleapis.com",
	}
	if t == TargetFunctions {
		apis = append(apis, "cloudfunctions.googleapis.com", "cloudbuild.googleapis.com")
	}
	return apis
}
