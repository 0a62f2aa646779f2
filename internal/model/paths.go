package model

// Collection ids of docs/data-model.md. Build paths with the helpers below
// rather than by hand, so a rename is one edit. The helpers do not validate:
// pass ids that passed ValidateID / ValidateRoomID.
const (
	UsersCollection       = "users"
	MembershipsCollection = "memberships" // under users/{uid}
	DevicesCollection     = "devices"     // under users/{uid}
	InboxCollection       = "inbox"       // under users/{uid}
	PrivateCollection     = "private"     // under users/{uid}
	PresenceCollection    = "presence"
	RoomsCollection       = "rooms"
	MembersCollection     = "members"  // under rooms/{roomId}
	MessagesCollection    = "messages" // under rooms/{roomId}
	TypingCollection      = "typing"   // under rooms/{roomId}
	PushQueueCollection   = "pushQueue"
	AuditLogCollection    = "auditLog"
	RevocationsCollection = "revocations"
	// Backend-only collections: the rules grant clients nothing on them.
	LeasesCollection       = "leases"       // leases/{name}: which instance runs a scheduler
	UploadsCollection      = "uploads"      // uploads/{objectId}: one record per upload URL
	UploadQuotasCollection = "uploadQuotas" // uploadQuotas/{uid}_{yyyymmdd}
	CountedCollection      = "counted"      // under rooms/{roomId}: a message's counted marker

	// CountersDocID is the only document of users/{uid}/private: the badge totals
	// Hearth once stored. No longer written (the badge is the sum of the inbox
	// entries' counts); one left from before is stale, and erase deletes it.
	CountersDocID = "counters"
)

// Document path patterns, as triggers name them ({param} is one path segment).
const (
	MessagePattern    = "rooms/{roomId}/messages/{messageId}"
	MemberPattern     = "rooms/{roomId}/members/{uid}"
	MembershipPattern = "users/{uid}/memberships/{roomId}"
	PresencePattern   = "presence/{uid}"
	UserPattern       = "users/{uid}"
	RoomPattern       = "rooms/{roomId}"
)

// Field names used in queries and partial updates, where a struct tag cannot be used.
const (
	FieldMemberIDs   = "memberIds"
	FieldLarge       = "large"       // Room.Large
	FieldLastMessage = "lastMessage" // Room.LastMessage
)

// UserPath returns "users/{uid}".
func UserPath(uid string) string { return UsersCollection + "/" + uid }

// MembershipsCollectionPath returns "users/{uid}/memberships".
func MembershipsCollectionPath(uid string) string {
	return UserPath(uid) + "/" + MembershipsCollection
}

// MembershipPath returns "users/{uid}/memberships/{roomId}".
func MembershipPath(uid, roomID string) string {
	return MembershipsCollectionPath(uid) + "/" + roomID
}

// DevicesCollectionPath returns "users/{uid}/devices".
func DevicesCollectionPath(uid string) string { return UserPath(uid) + "/" + DevicesCollection }

// DevicePath returns "users/{uid}/devices/{deviceId}".
func DevicePath(uid, deviceID string) string { return DevicesCollectionPath(uid) + "/" + deviceID }

// InboxCollectionPath returns "users/{uid}/inbox".
func InboxCollectionPath(uid string) string { return UserPath(uid) + "/" + InboxCollection }

// InboxEntryPath returns "users/{uid}/inbox/{roomId}".
func InboxEntryPath(uid, roomID string) string { return InboxCollectionPath(uid) + "/" + roomID }

// CountersPath returns "users/{uid}/private/counters".
func CountersPath(uid string) string {
	return UserPath(uid) + "/" + PrivateCollection + "/" + CountersDocID
}

// PresencePath returns "presence/{uid}".
func PresencePath(uid string) string { return PresenceCollection + "/" + uid }

// RoomPath returns "rooms/{roomId}".
func RoomPath(roomID string) string { return RoomsCollection + "/" + roomID }

// MembersCollectionPath returns "rooms/{roomId}/members".
func MembersCollectionPath(roomID string) string { return RoomPath(roomID) + "/" + MembersCollection }

// MemberPath returns "rooms/{roomId}/members/{uid}".
func MemberPath(roomID, uid string) string { return MembersCollectionPath(roomID) + "/" + uid }

// MessagesCollectionPath returns "rooms/{roomId}/messages".
func MessagesCollectionPath(roomID string) string {
	return RoomPath(roomID) + "/" + MessagesCollection
}

// MessagePath returns "rooms/{roomId}/messages/{messageId}".
func MessagePath(roomID, messageID string) string {
	return MessagesCollectionPath(roomID) + "/" + messageID
}

// TypingCollectionPath returns "rooms/{roomId}/typing".
func TypingCollectionPath(roomID string) string { return RoomPath(roomID) + "/" + TypingCollection }

// TypingPath returns "rooms/{roomId}/typing/{uid}".
func TypingPath(roomID, uid string) string { return TypingCollectionPath(roomID) + "/" + uid }

// PushQueuePath returns "pushQueue/{uid}_{roomId}".
func PushQueuePath(uid, roomID string) string {
	return PushQueueCollection + "/" + PushQueueID(uid, roomID)
}

// AuditEntryPath returns "auditLog/{id}".
func AuditEntryPath(id string) string { return AuditLogCollection + "/" + id }
