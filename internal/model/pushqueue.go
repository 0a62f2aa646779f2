package model

import "time"

// PushQueueEntry is pushQueue/{uid}_{roomId} (see PushQueueID): the pending
// notification digest of one recipient and room. Only Hearth reads and
// writes it. The message trigger adds to it in a transaction; the flusher
// takes a lease, sends one notification for the whole entry and deletes it,
// so nothing queued is lost when an instance dies mid-send (the lease
// expires and another instance retries).
type PushQueueEntry struct {
	UID    string `firestore:"uid"`
	RoomID string `firestore:"roomId"`
	// MessageIDs are the newest pending message ids, oldest first, at most
	// MaxDigestMessageIDs; adding an id already present is a no-op, which
	// makes the at-least-once trigger idempotent.
	MessageIDs []string `firestore:"messageIds"`
	// Count is how many messages the digest covers ("5 new messages").
	Count int `firestore:"count"`
	// Mentioned is set when any pending message mentions the recipient, so a
	// "mentions" level still notifies.
	Mentioned bool `firestore:"mentioned"`
	// FirstAt and LastAt are the createdAt of the oldest and newest message.
	FirstAt time.Time `firestore:"firstAt"`
	LastAt  time.Time `firestore:"lastAt"`
	// DueAt is when the flusher sends the digest (the end of the
	// aggregation window); the flusher queries where("dueAt", "<=", now).
	DueAt time.Time `firestore:"dueAt"`
	// LeaseOwner and LeaseUntil: an instance owns the entry until LeaseUntil;
	// others skip it until then.
	LeaseOwner string    `firestore:"leaseOwner,omitempty"`
	LeaseUntil time.Time `firestore:"leaseUntil,omitempty"`
	// Attempts counts failed sends, for backoff and giving up.
	Attempts  int    `firestore:"attempts"`
	LastError string `firestore:"lastError,omitempty"`
}

// Leased reports whether another instance holds the lease at now.
func (e PushQueueEntry) Leased(now time.Time) bool {
	return e.LeaseOwner != "" && now.Before(e.LeaseUntil)
}
