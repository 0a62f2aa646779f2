package model

import "time"

// Typing is rooms/{roomId}/typing/{uid}. A member writes their own doc at
// most once per TypingInterval; a doc older than TypingStaleAfter counts as
// not typing.
type Typing struct {
	Typing bool `firestore:"typing"`
	// UpdatedAt equals request.time (serverTimestamp()).
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// Active reports whether the doc says "typing" at now.
func (t Typing) Active(now time.Time) bool {
	return t.Typing && now.Sub(t.UpdatedAt) <= TypingStaleAfter
}
