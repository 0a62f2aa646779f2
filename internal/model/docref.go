package model

import (
	"fmt"
	"strings"
)

// DocKind names a document of the data model.
type DocKind string

// The document kinds, one per path of docs/data-model.md.
const (
	KindUser       DocKind = "user"       // users/{uid}
	KindMembership DocKind = "membership" // users/{uid}/memberships/{roomId}
	KindDevice     DocKind = "device"     // users/{uid}/devices/{deviceId}
	KindInboxEntry DocKind = "inboxEntry" // users/{uid}/inbox/{roomId}
	KindCounters   DocKind = "counters"   // users/{uid}/private/counters (stale: no longer written)
	KindPresence   DocKind = "presence"   // presence/{uid}
	KindRoom       DocKind = "room"       // rooms/{roomId}
	KindMember     DocKind = "member"     // rooms/{roomId}/members/{uid}
	KindMessage    DocKind = "message"    // rooms/{roomId}/messages/{messageId}
	KindTyping     DocKind = "typing"     // rooms/{roomId}/typing/{uid}
	KindPushQueue  DocKind = "pushQueue"  // pushQueue/{uid}_{roomId}
	KindAuditEntry DocKind = "auditEntry" // auditLog/{id}
)

// DocRef is a parsed document path: its kind and the ids in it. Fields that
// the kind's path does not contain are empty.
type DocRef struct {
	Kind      DocKind
	UID       string
	RoomID    string
	MessageID string
	DeviceID  string
	AuditID   string
}

// Path returns the relative document path of r ("rooms/r1/messages/m1"), or
// "" for an unknown kind. ParseDocPath(r.Path()) returns r.
func (r DocRef) Path() string {
	switch r.Kind {
	case KindUser:
		return UserPath(r.UID)
	case KindMembership:
		return MembershipPath(r.UID, r.RoomID)
	case KindDevice:
		return DevicePath(r.UID, r.DeviceID)
	case KindInboxEntry:
		return InboxEntryPath(r.UID, r.RoomID)
	case KindCounters:
		return CountersPath(r.UID)
	case KindPresence:
		return PresencePath(r.UID)
	case KindRoom:
		return RoomPath(r.RoomID)
	case KindMember:
		return MemberPath(r.RoomID, r.UID)
	case KindMessage:
		return MessagePath(r.RoomID, r.MessageID)
	case KindTyping:
		return TypingPath(r.RoomID, r.UID)
	case KindPushQueue:
		return PushQueuePath(r.UID, r.RoomID)
	case KindAuditEntry:
		return AuditEntryPath(r.AuditID)
	}
	return ""
}

// PathError reports a path that is not a document (or storage object) of
// the data model. Err, when set, is the *ValidationError of an id in it.
type PathError struct {
	Path   string
	Reason string
	Err    error
}

// Error implements error.
func (e *PathError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("path %q: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("path %q: %s", e.Path, e.Reason)
}

// Unwrap returns the id's validation error, if any.
func (e *PathError) Unwrap() error { return e.Err }

// ParseDocPath recognises a document path of the data model and returns its
// kind and ids, all validated. It accepts the relative form
// ("rooms/r1/messages/m1"), the CloudEvent subject form
// ("documents/rooms/r1/messages/m1") and the full resource name
// ("projects/p/databases/(default)/documents/rooms/r1/messages/m1", as in
// DocumentEventData). The error is a *PathError.
func ParseDocPath(path string) (DocRef, error) {
	rel, err := relativeDocPath(path)
	if err != nil {
		return DocRef{}, err
	}
	s := strings.Split(rel, "/")
	bad := func(reason string) (DocRef, error) {
		return DocRef{}, &PathError{Path: path, Reason: reason}
	}
	var r DocRef
	switch {
	case len(s) == 2 && s[0] == UsersCollection:
		r = DocRef{Kind: KindUser, UID: s[1]}
	case len(s) == 4 && s[0] == UsersCollection && s[2] == MembershipsCollection:
		r = DocRef{Kind: KindMembership, UID: s[1], RoomID: s[3]}
	case len(s) == 4 && s[0] == UsersCollection && s[2] == DevicesCollection:
		r = DocRef{Kind: KindDevice, UID: s[1], DeviceID: s[3]}
	case len(s) == 4 && s[0] == UsersCollection && s[2] == InboxCollection:
		r = DocRef{Kind: KindInboxEntry, UID: s[1], RoomID: s[3]}
	case len(s) == 4 && s[0] == UsersCollection && s[2] == PrivateCollection:
		if s[3] != CountersDocID {
			return bad("unknown private document " + s[3])
		}
		r = DocRef{Kind: KindCounters, UID: s[1]}
	case len(s) == 2 && s[0] == PresenceCollection:
		r = DocRef{Kind: KindPresence, UID: s[1]}
	case len(s) == 2 && s[0] == RoomsCollection:
		r = DocRef{Kind: KindRoom, RoomID: s[1]}
	case len(s) == 4 && s[0] == RoomsCollection && s[2] == MembersCollection:
		r = DocRef{Kind: KindMember, RoomID: s[1], UID: s[3]}
	case len(s) == 4 && s[0] == RoomsCollection && s[2] == MessagesCollection:
		r = DocRef{Kind: KindMessage, RoomID: s[1], MessageID: s[3]}
	case len(s) == 4 && s[0] == RoomsCollection && s[2] == TypingCollection:
		r = DocRef{Kind: KindTyping, RoomID: s[1], UID: s[3]}
	case len(s) == 2 && s[0] == PushQueueCollection:
		uid, roomID, err := ParsePushQueueID(s[1])
		if err != nil {
			return DocRef{}, &PathError{Path: path, Reason: "invalid pushQueue id", Err: err}
		}
		r = DocRef{Kind: KindPushQueue, UID: uid, RoomID: roomID}
	case len(s) == 2 && s[0] == AuditLogCollection:
		r = DocRef{Kind: KindAuditEntry, AuditID: s[1]}
	default:
		return bad("not a document of the data model")
	}
	if err := r.validate(); err != nil {
		return DocRef{}, &PathError{Path: path, Reason: "invalid id", Err: err}
	}
	return r, nil
}

// validate checks the ids r's kind carries.
func (r DocRef) validate() error {
	var c checker
	check := func(field, id string, problem func(string) string) {
		if reason := problem(id); reason != "" {
			c.add(field, "%s", reason)
		}
	}
	switch r.Kind {
	case KindUser, KindCounters, KindPresence, KindMembership, KindDevice, KindInboxEntry, KindMember, KindTyping:
		check("uid", r.UID, idProblem)
	}
	switch r.Kind {
	case KindMembership, KindInboxEntry, KindRoom, KindMember, KindMessage, KindTyping:
		check("roomId", r.RoomID, roomIDProblem)
	}
	switch r.Kind {
	case KindMessage:
		check("messageId", r.MessageID, idProblem)
	case KindDevice:
		check("deviceId", r.DeviceID, idProblem)
	case KindAuditEntry:
		check("auditId", r.AuditID, idProblem)
	}
	return c.err()
}

// relativeDocPath strips the "projects/{p}/databases/{d}/documents/" or
// "documents/" prefix of a document path.
func relativeDocPath(path string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &PathError{Path: path, Reason: reason}
	}
	rel := path
	if strings.HasPrefix(path, "projects/") {
		s := strings.SplitN(path, "/", 6)
		if len(s) < 6 || s[1] == "" || s[2] != "databases" || s[3] == "" || s[4] != "documents" {
			return bad("want projects/{project}/databases/{database}/documents/...")
		}
		rel = s[5]
	} else {
		rel = strings.TrimPrefix(path, "documents/")
	}
	if rel == "" {
		return bad("empty")
	}
	if strings.HasPrefix(rel, "/") || strings.HasSuffix(rel, "/") || strings.Contains(rel, "//") {
		return bad("empty path segment")
	}
	return rel, nil
}
