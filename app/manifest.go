package app

import (
	"github.com/hearth-chat/hearth/functions"
)

// Manifest is what a deployment of Hearth must wire, read from the same tables New
// builds from, without building anything (no clients, no I/O): `hearth deploy plan`
// renders it, and TestManifestMatchesNew holds it to what New builds.
type Manifest struct {
	// Triggers are the Firestore triggers, handlers left out.
	Triggers []functions.Trigger
	// Schedulers are the jobs of the scheduler registry, Run left out, at cfg's
	// intervals: each is one Cloud Scheduler job calling POST /schedulers/{Name}.
	Schedulers []functions.Scheduler
	// StorageEventsPath is where Cloud Storage's finalize events go on the events
	// service (empty without media).
	StorageEventsPath string
}

// StorageEventsPath is the events route of the media checks' storage notifications.
const StorageEventsPath = "/events/storage"

// NewManifest returns the manifest of cfg. Media is on when cfg names a bucket, as in New.
func NewManifest(cfg Config) (Manifest, error) {
	scheds, err := functions.SchedulerSpecs(cfg.Functions)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Triggers: functions.TriggerSpecs(), Schedulers: scheds}
	m.Schedulers = append(m.Schedulers, functions.Scheduler{Name: SchedulerPushFlusher, Every: cfg.Push.PollInterval})
	if cfg.API.StorageBucket != "" {
		if every := cfg.Media.Resolve().ExpireInterval; every > 0 {
			m.Schedulers = append(m.Schedulers, functions.Scheduler{Name: SchedulerMediaExpiry, Every: every})
		}
		m.StorageEventsPath = StorageEventsPath
	}
	return m, nil
}
