package model

import (
	"time"
	"unicode/utf8"
)

// LastMessage is the preview of a room's newest message, kept on the room
// (rooms/{roomId}.lastMessage) and on every member's inbox entry.
type LastMessage struct {
	ID         string      `firestore:"id"`
	SenderID   string      `firestore:"senderId"`
	SenderName string      `firestore:"senderName"`
	Type       MessageType `firestore:"type"`
	// Preview is the text cut by PreviewOf; "" for media without caption
	// (clients show an icon for Type) and for deleted messages.
	Preview string    `firestore:"preview"`
	SentAt  time.Time `firestore:"sentAt"`
}

// InboxEntry is users/{uid}/inbox/{roomId}: one row of the user's
// conversation list. Hearth writes it; the owner reads it, typically with
// orderBy("lastMessageAt", "desc").
type InboxEntry struct {
	RoomID string   `firestore:"roomId"`
	Type   RoomType `firestore:"type"`
	// Title and PhotoURL are the room's, or for a direct room the other
	// user's displayName and photoURL (kept in sync on user changes).
	Title       string       `firestore:"title"`
	PhotoURL    string       `firestore:"photoURL,omitempty"`
	LastMessage *LastMessage `firestore:"lastMessage,omitempty"`
	// LastMessageAt is always set (the join time until the first message):
	// Firestore's orderBy leaves out documents without the field, which
	// would hide new, empty conversations.
	LastMessageAt time.Time `firestore:"lastMessageAt"`
	UnreadCount   int       `firestore:"unreadCount"`
	MentionCount  int       `firestore:"mentionCount"`
	Muted         bool      `firestore:"muted"`
	UpdatedAt     time.Time `firestore:"updatedAt"`
}

// PreviewOf cuts text to at most MaxPreviewLen runes for a lastMessage
// preview or a notification body, ending a cut text with "…" (counted in the
// limit). It never splits a rune.
func PreviewOf(text string) string {
	if utf8.RuneCountInString(text) <= MaxPreviewLen {
		return text
	}
	n := 0
	for i := range text {
		if n == MaxPreviewLen-1 {
			return text[:i] + "…"
		}
		n++
	}
	return text
}
