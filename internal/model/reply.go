package model

// ReplyPreview is rooms/{roomId}/messages/{messageId}.replyPreview: the quoted preview
// of the message a reply answers (replyTo), so that a client shows the quote without
// reading the parent. Only Hearth writes it, from the parent's current state: an edit
// of the parent changes it, a deletion empties it (Deleted, no text), so deleted text
// never lingers in a quote.
type ReplyPreview struct {
	// ID is the parent's id (= replyTo).
	ID       string `firestore:"id"`
	SenderID string `firestore:"senderId"`
	// SenderName is the parent sender's displayName when the preview was written.
	SenderName string      `firestore:"senderName"`
	Type       MessageType `firestore:"type"`
	// Text is the parent's text cut by PreviewOf (at most MaxPreviewLen runes); ""
	// for media without caption and for a deleted parent.
	Text string `firestore:"text"`
	// Deleted says the parent is a tombstone or no longer exists.
	Deleted bool `firestore:"deleted,omitempty"`
}
