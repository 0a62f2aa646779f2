package model

import "time"

// User is users/{uid}: the public profile. The owner creates and updates it.
type User struct {
	DisplayName string       `firestore:"displayName"`
	PhotoURL    string       `firestore:"photoURL,omitempty"`
	Settings    UserSettings `firestore:"settings"`
	// CreatedAt equals request.time on create (clients write serverTimestamp()).
	CreatedAt time.Time `firestore:"createdAt"`
	// DisplayNameChangedAt equals request.time of the last update that changed
	// DisplayName (clients write serverTimestamp() with every rename); absent until
	// the first rename. A rename must come RenameInterval after it.
	DisplayNameChangedAt time.Time `firestore:"displayNameChangedAt,omitempty"`
}

// UserSettings is users/{uid}.settings. Both switches default to true, so
// they are pointers: a document written without them (older clients) reads
// as nil, which the Enabled methods treat as on. Never read the fields
// directly; use the methods.
type UserSettings struct {
	ReadReceipts         *bool `firestore:"readReceipts,omitempty"`
	NotificationPreviews *bool `firestore:"notificationPreviews,omitempty"`
}

// ReadReceiptsEnabled reports whether the user publishes read receipts to
// the member docs of their rooms (default true).
func (s UserSettings) ReadReceiptsEnabled() bool {
	return s.ReadReceipts == nil || *s.ReadReceipts
}

// NotificationPreviewsEnabled reports whether push notifications to the user
// may show message text (default true).
func (s UserSettings) NotificationPreviewsEnabled() bool {
	return s.NotificationPreviews == nil || *s.NotificationPreviews
}

// ValidateUser checks the id and the client-written fields of users/{uid}:
// displayName of 1..MaxDisplayNameLen runes without control characters, and
// photoURL empty or an https URL. Timestamps are the rules' job
// (== request.time), not checked here.
func ValidateUser(uid string, u User) error {
	var c checker
	if reason := idProblem(uid); reason != "" {
		c.add("uid", "%s", reason)
	}
	c.text("displayName", u.DisplayName, 1, MaxDisplayNameLen, false)
	c.httpsURL("photoURL", u.PhotoURL)
	return c.err()
}
