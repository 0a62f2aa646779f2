package model

import "time"

// Role is a member's rank in a room.
type Role string

// The roles. An owner can do everything an admin can and manage admins;
// an admin manages members and moderates.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleMember:
		return true
	}
	return false
}

// Roles returns every Role.
func Roles() []Role {
	return []Role{RoleOwner, RoleAdmin, RoleMember}
}

// CanModerate reports whether the role may remove or ban members and redact
// messages.
func (r Role) CanModerate() bool {
	return r == RoleOwner || r == RoleAdmin
}

// Member is rooms/{roomId}/members/{uid}: the public side of a membership.
// Only Hearth writes it; members read the whole collection with one
// listener to show roster, receipts and who is online.
//
// A ban keeps the document with Banned = true (and BannedAt, BannedBy,
// BannedByRank) while
// the uid leaves room.memberIds and the private membership and inbox entry
// are deleted: the rules deny the banned user everything, and the kept doc is
// what stops them from being added again (POST .../members refuses banned
// uids until an admin unbans, which deletes the doc). Banned is always
// written, so rosters query where("banned", "==", false); a != query would
// also drop documents that lack the field.
type Member struct {
	Role        Role      `firestore:"role"`
	JoinedAt    time.Time `firestore:"joinedAt"`
	DisplayName string    `firestore:"displayName"`
	// ReadAt and ReadMessageID mirror the private membership's read pointer
	// only while the user's settings.readReceipts is on; they are removed
	// when it turns off.
	ReadAt        time.Time `firestore:"readAt,omitempty"`
	ReadMessageID string    `firestore:"readMessageId,omitempty"`
	// DeliveredAt mirrors the delivery pointer.
	DeliveredAt time.Time `firestore:"deliveredAt,omitempty"`
	// Online and LastSeen mirror presence/{uid} on transitions only.
	Online   bool      `firestore:"online"`
	LastSeen time.Time `firestore:"lastSeen,omitempty"`
	Banned   bool      `firestore:"banned"`
	BannedAt time.Time `firestore:"bannedAt,omitempty"`
	BannedBy string    `firestore:"bannedBy,omitempty"`
	// BannedByRank is the Rank of BannedBy when they set the ban; a lower
	// rank cannot lift it. Read it with BanRank: bans from before ranks
	// were recorded lack it and count as an app admin's.
	BannedByRank Rank `firestore:"bannedByRank,omitempty"`
}
