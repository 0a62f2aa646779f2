package model

import (
	"strings"
	"time"
)

// RoomType is direct (exactly two users, one room per pair) or group.
type RoomType string

// The room types.
const (
	RoomDirect RoomType = "direct"
	RoomGroup  RoomType = "group"
)

// Valid reports whether t is one of the defined room types.
func (t RoomType) Valid() bool {
	return t == RoomDirect || t == RoomGroup
}

// RoomTypes returns every RoomType.
func RoomTypes() []RoomType {
	return []RoomType{RoomDirect, RoomGroup}
}

// Room is rooms/{roomId}. Hearth writes it; members read it. MemberIDs is
// the authority on who is a member: the rules check
// request.auth.uid in room.memberIds for every read and write in the room.
type Room struct {
	Type RoomType `firestore:"type"`
	// Title is set for groups only; a direct room has none (each side's
	// inbox shows the other user's name).
	Title     string    `firestore:"title,omitempty"`
	PhotoURL  string    `firestore:"photoURL,omitempty"`
	CreatedBy string    `firestore:"createdBy"`
	CreatedAt time.Time `firestore:"createdAt"`
	MemberIDs []string  `firestore:"memberIds"`
	// MemberCount equals len(MemberIDs); it exists for queries and rules.
	MemberCount int          `firestore:"memberCount"`
	LastMessage *LastMessage `firestore:"lastMessage,omitempty"`
	// LastMessageAt is CreatedAt until the first message, so that ordering
	// queries include empty rooms.
	LastMessageAt time.Time `firestore:"lastMessageAt"`
	MessageCount  int64     `firestore:"messageCount"`
	// Archived rooms are read-only; always written so that
	// where("archived", "==", false) finds live rooms.
	Archived bool `firestore:"archived"`
	// Large is Hearth's large-room mode, set while the room has at least the
	// configured threshold of members (HEARTH_LARGE_ROOM_MEMBERS): no typing
	// (the rules refuse it), no per-member receipts, delivery or presence in
	// the member docs (ReadCount instead), digest-only group pushes.
	Large bool `firestore:"large,omitempty"`
}

// ValidateRoom checks a room document: a valid room id and type; a group has
// a title of 1..MaxTitleLen runes and 1..MaxMembers distinct members and an
// id that is not of the direct form; a direct room has no title, exactly
// DirectMembers distinct members and the id DirectRoomID of the pair.
// memberCount must equal len(memberIds).
func ValidateRoom(roomID string, r Room) error {
	var c checker
	if reason := roomIDProblem(roomID); reason != "" {
		c.add("roomId", "%s", reason)
	}
	if reason := idProblem(r.CreatedBy); reason != "" {
		c.add("createdBy", "%s", reason)
	}
	c.httpsURL("photoURL", r.PhotoURL)
	if r.MemberCount != len(r.MemberIDs) {
		c.add("memberCount", "%d != len(memberIds) %d", r.MemberCount, len(r.MemberIDs))
	}
	if r.MessageCount < 0 {
		c.add("messageCount", "negative")
	}
	switch r.Type {
	case RoomGroup:
		c.text("title", r.Title, 1, MaxTitleLen, false)
		if len(r.MemberIDs) == 0 {
			c.add(FieldMemberIDs, "required")
		}
		c.ids(FieldMemberIDs, r.MemberIDs, MaxMembers)
		if strings.HasPrefix(roomID, DirectRoomPrefix) {
			c.add("roomId", "prefix %q is reserved for direct rooms", DirectRoomPrefix)
		}
	case RoomDirect:
		if r.Title != "" {
			c.add("title", "must be empty for a direct room")
		}
		if len(r.MemberIDs) != DirectMembers {
			c.add(FieldMemberIDs, "a direct room has exactly %d members, not %d", DirectMembers, len(r.MemberIDs))
			break
		}
		before := len(c.fields)
		c.ids(FieldMemberIDs, r.MemberIDs, DirectMembers)
		if len(c.fields) == before {
			if want := DirectRoomID(r.MemberIDs[0], r.MemberIDs[1]); roomID != want {
				c.add("roomId", "a direct room of these members has id %q", want)
			}
		}
	default:
		c.add("type", "must be one of %q", RoomTypes())
	}
	return c.err()
}
