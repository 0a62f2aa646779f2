package model

import "time"

// TalliesCollection is backend-only, under rooms/{roomId}: tallies/{messageId} records
// which members' inbox counts include the message (see package inbox).
const TalliesCollection = "tallies"

// TalliesCollectionPath returns "rooms/{roomId}/tallies".
func TalliesCollectionPath(roomID string) string { return RoomPath(roomID) + "/" + TalliesCollection }

// TallyPath returns "rooms/{roomId}/tallies/{messageId}".
func TallyPath(roomID, messageID string) string {
	return TalliesCollectionPath(roomID) + "/" + messageID
}

// Tally is rooms/{roomId}/tallies/{messageId}, written by the inbox fan-out only: the
// members whose unreadCount and mentionCount include the message, and the message's
// createdAt, which the recount on a read compares with the read pointer.
type Tally struct {
	Unread    []string  `firestore:"unread"`
	Mentioned []string  `firestore:"mentioned"`
	SenderID  string    `firestore:"senderId"`
	CreatedAt time.Time `firestore:"createdAt"` // the message's
	UpdatedAt time.Time `firestore:"updatedAt"`
	// ExpireAt is CreatedAt + TallyRetention (the write time + TallyRetention when the
	// message is gone): a Firestore TTL policy deletes the tally then (see
	// docs/functions.md, "Incremental counts").
	ExpireAt time.Time `firestore:"expireAt"`
}

// TallyRetention is how long a message's tally is kept after the message was created.
// Unread counts recounted later (a read) no longer include messages older than it, and
// a change of such a message whose tally is gone (a deletion, an edit of its mentions)
// no longer changes anyone's counts.
const TallyRetention = 90 * 24 * time.Hour

// TallyExpireAt returns the expireAt of a tally of a message created at createdAt,
// written at now.
func TallyExpireAt(createdAt, now time.Time) time.Time {
	if createdAt.IsZero() {
		createdAt = now
	}
	return createdAt.UTC().Add(TallyRetention)
}
