package model

import "time"

// ReadCountsCollection is under rooms/{roomId}: its one document, ReadCountDocID, is
// the room's "read by N" while the room is Large. Hearth writes it; members read it.
const ReadCountsCollection = "readCounts"

// ReadCountDocID is the only document of rooms/{roomId}/readCounts.
const ReadCountDocID = "last"

// ReadCountPath returns "rooms/{roomId}/readCounts/last".
func ReadCountPath(roomID string) string {
	return RoomPath(roomID) + "/" + ReadCountsCollection + "/" + ReadCountDocID
}

// ReadCount is rooms/{roomId}/readCounts/last: in a Large room, how many members other
// than the sender have read the room's last message (their read pointer is at or past
// its SentAt), counting only members who publish read receipts
// (settings.readReceipts). It names the message it counts: a client shows Count only
// while MessageID is the room's lastMessage.id (a newer message is read by 0 until
// Hearth recounts).
type ReadCount struct {
	MessageID string    `firestore:"messageId"`
	SentAt    time.Time `firestore:"sentAt"`
	Count     int       `firestore:"count"`
	UpdatedAt time.Time `firestore:"updatedAt"`
}
