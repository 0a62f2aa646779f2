package model

import "time"

// NotificationLevel is which messages of a room notify a member.
type NotificationLevel string

// The notification levels.
const (
	NotifyAll      NotificationLevel = "all"
	NotifyMentions NotificationLevel = "mentions"
	NotifyNone     NotificationLevel = "none"
)

// Valid reports whether l is one of the defined levels.
func (l NotificationLevel) Valid() bool {
	switch l {
	case NotifyAll, NotifyMentions, NotifyNone:
		return true
	}
	return false
}

// NotificationLevels returns every NotificationLevel.
func NotificationLevels() []NotificationLevel {
	return []NotificationLevel{NotifyAll, NotifyMentions, NotifyNone}
}

// Membership is users/{uid}/memberships/{roomId}: the private side of a
// membership. Hearth creates it on join (LastReadAt = join time, so unread
// counts start there; Notifications = NotifyAll) and deletes it on leave;
// only the owner reads it and updates exactly these fields. It is split from
// the public rooms/{roomId}/members/{uid} because rules cannot hide single
// fields, and so that read pointers, written often, stay off shared docs.
type Membership struct {
	// LastReadAt and LastReadMessageID say "I have read up to here"; they
	// only move forward and never past request.time.
	LastReadAt        time.Time `firestore:"lastReadAt,omitempty"`
	LastReadMessageID string    `firestore:"lastReadMessageId,omitempty"`
	// LastDeliveredAt is the delivery pointer, with the same rules.
	LastDeliveredAt time.Time         `firestore:"lastDeliveredAt,omitempty"`
	Notifications   NotificationLevel `firestore:"notifications"`
	// MutedUntil silences the room until then; zero means not muted.
	MutedUntil time.Time `firestore:"mutedUntil,omitempty"`
	// RoomID and ReadReceipts are Hearth's (the owner cannot change them): the
	// room's id again and a copy of the owner's settings.readReceipts, kept by
	// the roster. They make a large room's "read by N" (ReadCount) one COUNT
	// over the memberships collection group.
	RoomID       string `firestore:"roomId,omitempty"`
	ReadReceipts bool   `firestore:"readReceipts,omitempty"`
}

// Muted reports whether the room is muted at now.
func (m Membership) Muted(now time.Time) bool {
	return now.Before(m.MutedUntil)
}

// ValidateMembershipUpdate checks an owner's update of a private membership
// from prev to next at time now (request.time): notifications is a valid
// level, lastReadMessageId a valid id when set, and both pointers are
// monotonic (never before prev) and not in the future (never after now).
// For a new membership pass a zero prev.
func ValidateMembershipUpdate(prev, next Membership, now time.Time) error {
	var c checker
	if !next.Notifications.Valid() {
		c.add("notifications", "must be one of %q", NotificationLevels())
	}
	if next.LastReadMessageID != "" {
		if reason := idProblem(next.LastReadMessageID); reason != "" {
			c.add("lastReadMessageId", "%s", reason)
		}
	}
	c.pointer("lastReadAt", prev.LastReadAt, next.LastReadAt, now)
	c.pointer("lastDeliveredAt", prev.LastDeliveredAt, next.LastDeliveredAt, now)
	return c.err()
}

// pointer checks a monotonic read/delivery timestamp.
func (c *checker) pointer(field string, prev, next, now time.Time) {
	switch {
	case next.IsZero() && !prev.IsZero():
		c.add(field, "cannot be removed")
	case next.Before(prev):
		c.add(field, "moves backwards: %s < %s", next.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano))
	case next.After(now):
		c.add(field, "in the future: %s > %s", next.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
}
