package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Patterns of valid ids, as whole-string RE2 expressions: the security rules
// use them with string.matches() (which matches the whole string), so they
// and ValidateID accept exactly the same ids (a fuzz test checks it).
const (
	// IDPattern matches a valid uid, message, device, object or audit id.
	// The charset covers Firebase Auth uids, Firestore auto ids, UUIDs and
	// FCM installation ids; it excludes '/', '.', and anything that needs
	// escaping in a storage object name or a URL path. Custom-auth uids
	// outside it (emails, "auth0|...") are not supported.
	IDPattern = `[A-Za-z0-9_-]{1,128}`

	// RoomIDPattern matches a valid room id: an id without '_', so that a
	// pushQueue id "{uid}_{roomId}" splits unambiguously at its last '_'.
	// Room ids are made only by Hearth (Firestore auto ids or DirectRoomID).
	RoomIDPattern = `[A-Za-z0-9-]{1,128}`

	// ReservedIDPattern matches ids Firestore reserves; they are rejected
	// even though IDPattern matches them.
	ReservedIDPattern = `__.*__`

	// DirectRoomPrefix starts every direct room id (see DirectRoomID).
	DirectRoomPrefix = "dm-"

	// directRoomHashLen is the number of hex digits of a direct room id.
	directRoomHashLen = 32
)

// ValidateID checks a document id against IDPattern and ReservedIDPattern.
// field names the id in the returned *ValidationError ("uid", "messageId").
func ValidateID(field, id string) error {
	var c checker
	if reason := idProblem(id); reason != "" {
		c.add(field, "%s", reason)
	}
	return c.err()
}

// ValidateRoomID checks a room id against RoomIDPattern and
// ReservedIDPattern. field names the id in the returned *ValidationError.
func ValidateRoomID(field, id string) error {
	var c checker
	if reason := roomIDProblem(id); reason != "" {
		c.add(field, "%s", reason)
	}
	return c.err()
}

// idProblem returns why id is not a valid id, or "".
func idProblem(id string) string {
	return idCharsProblem(id, true)
}

// roomIDProblem returns why id is not a valid room id, or "".
func roomIDProblem(id string) string {
	return idCharsProblem(id, false)
}

func idCharsProblem(id string, underscore bool) string {
	switch {
	case id == "":
		return "required"
	case len(id) > MaxIDLen:
		return fmt.Sprintf("too long: %d > %d characters", len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		ok := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			b == '-' || underscore && b == '_'
		if !ok {
			return fmt.Sprintf("invalid character %q at %d", rune(b), i)
		}
	}
	// Firestore reserves ids of the form __.*__ (at least four characters:
	// "___" has overlapping underscores and is allowed).
	if len(id) >= 4 && strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__") {
		return "reserved id __...__"
	}
	return ""
}

// DirectRoomID returns the id of the one direct room of two users: the same
// for (a, b) and (b, a), every time, so POST /v1/rooms/direct can create the
// room idempotently (create-if-absent on a known id) and two concurrent
// requests meet on the same document. It is
//
//	"dm-" + the first 32 lowercase hex digits of SHA-256(lo + "/" + hi)
//
// where lo and hi are the two uids in byte order. Hashing, rather than
// joining the uids, keeps the id short (two 128-character uids would exceed
// MaxIDLen) and free of '_' (RoomIDPattern); '/' cannot occur in a uid, so
// different pairs never hash the same input. 128 bits make a collision
// practically impossible. Clients may compute it the same way to open a
// direct room before the API has answered. Callers must reject uidA == uidB
// first: a room with oneself is not a direct room.
func DirectRoomID(uidA, uidB string) string {
	if uidB < uidA {
		uidA, uidB = uidB, uidA
	}
	sum := sha256.Sum256([]byte(uidA + "/" + uidB))
	return DirectRoomPrefix + hex.EncodeToString(sum[:])[:directRoomHashLen]
}

// IsDirectRoomID reports whether id has the form of a DirectRoomID result.
func IsDirectRoomID(id string) bool {
	h, ok := strings.CutPrefix(id, DirectRoomPrefix)
	if !ok || len(h) != directRoomHashLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !('0' <= h[i] && h[i] <= '9' || 'a' <= h[i] && h[i] <= 'f') {
			return false
		}
	}
	return true
}

// PushQueueID returns the id of the pushQueue document that collects the
// notification digest of one recipient and room: "{uid}_{roomId}". It is
// unambiguous because room ids contain no '_' (RoomIDPattern).
func PushQueueID(uid, roomID string) string {
	return uid + "_" + roomID
}

// ParsePushQueueID splits a PushQueueID result at its last '_' and validates
// both parts.
func ParsePushQueueID(id string) (uid, roomID string, err error) {
	i := strings.LastIndexByte(id, '_')
	if i < 0 {
		return "", "", &ValidationError{Fields: []FieldError{{Field: "pushQueueId", Reason: "want {uid}_{roomId}"}}}
	}
	uid, roomID = id[:i], id[i+1:]
	var c checker
	if reason := idProblem(uid); reason != "" {
		c.add("uid", "%s", reason)
	}
	if reason := roomIDProblem(roomID); reason != "" {
		c.add("roomId", "%s", reason)
	}
	if err := c.err(); err != nil {
		return "", "", err
	}
	return uid, roomID, nil
}
