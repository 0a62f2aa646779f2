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
}
