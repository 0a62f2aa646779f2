package model

import "time"

// PushQueueEntry is pushQueue/{uid}_{roomId} (see PushQueueID): the notification state
// of one recipient and room — the pending digest, the aggregation window, the lease of the
// instance sending it, and the ids of messages already handled. Only Hearth reads and
// writes it (internal/push). It lives as long as the membership: after a send it stays,
// without dueAt, as the memory of the window and of the handled message ids; nothing
// queued is lost when an instance dies mid-send (the lease expires and another instance
// sends it: at-least-once).
type PushQueueEntry struct {
	UID    string `firestore:"uid"`
	RoomID string `firestore:"roomId"`
	// MessageIDs are the newest pending message ids, oldest first, at most
	// MaxDigestMessageIDs.
	MessageIDs []string `firestore:"messageIds"`
	// SenderIDs are the senders of MessageIDs (the reactor of a reaction), aligned with
	// its end: SenderIDs[len(SenderIDs)-1] sent the newest. It may be shorter (entries
	// queued before senders were recorded); an item without a sender is not rechecked.
	// The flusher reads them to drop, at send time, the items of senders the recipient
	// has blocked since they were queued.
	SenderIDs []string `firestore:"senderIds,omitempty"`
	// Count is how many messages the digest covers ("5 new messages").
	Count int `firestore:"count"`
	// Mentioned is set when any pending message mentions the recipient, so a
	// "mentions" level still notifies.
	Mentioned bool `firestore:"mentioned"`
	// FirstAt and LastAt are the createdAt of the oldest and newest pending message.
	FirstAt time.Time `firestore:"firstAt,omitempty"`
	LastAt  time.Time `firestore:"lastAt,omitempty"`
	// DueAt is set only while something is pending or in flight: the flusher's query
	// where("dueAt", "<=", now) then finds exactly the work, with a single-field index.
	DueAt time.Time `firestore:"dueAt,omitempty"`
	// LeaseOwner and LeaseUntil: an instance owns the entry until LeaseUntil;
	// others skip it until then.
	LeaseOwner string    `firestore:"leaseOwner,omitempty"`
	LeaseUntil time.Time `firestore:"leaseUntil,omitempty"`
	// Attempts counts failed sends, for backoff and giving up.
	Attempts  int    `firestore:"attempts"`
	LastError string `firestore:"lastError,omitempty"`

	// MentionIDs are the pending messages that mention the recipient.
	MentionIDs []string `firestore:"mentionIds,omitempty"`
	// RecentIDs are the ids of handled messages, newest last (bounded): a message
	// already handled is a no-op, which makes the at-least-once trigger idempotent.
	RecentIDs []string `firestore:"recentIds,omitempty"`
	// WindowUntil ends the aggregation window opened by the last push: set at the claim,
	// moved to send time + the window when the push went out, zero when closed (a read).
	WindowUntil time.Time `firestore:"windowUntil,omitempty"`
	// NextDueAt is when urgent messages that arrived during a lease are due.
	NextDueAt time.Time `firestore:"nextDueAt,omitempty"`
	// LeaseID identifies one claim; LeaseCount and LeaseNewestID say what it covers.
	LeaseID       string    `firestore:"leaseId,omitempty"`
	LeaseCount    int       `firestore:"leaseCount,omitempty"`
	LeaseNewestID string    `firestore:"leaseNewestId,omitempty"`
	UpdatedAt     time.Time `firestore:"updatedAt"`
}

// Leased reports whether a lease is held at now (by any instance, the caller included).
func (e PushQueueEntry) Leased(now time.Time) bool {
	return e.LeaseOwner != "" && now.Before(e.LeaseUntil)
}
