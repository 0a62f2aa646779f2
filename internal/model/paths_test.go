package model

import (
	"errors"
	"strings"
	"testing"
)

func TestPathBuilders(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{UserPath("u1"), "users/u1"},
		{MembershipsCollectionPath("u1"), "users/u1/memberships"},
		{MembershipPath("u1", "r1"), "users/u1/memberships/r1"},
		{DevicesCollectionPath("u1"), "users/u1/devices"},
		{DevicePath("u1", "d1"), "users/u1/devices/d1"},
		{InboxCollectionPath("u1"), "users/u1/inbox"},
		{InboxEntryPath("u1", "r1"), "users/u1/inbox/r1"},
		{CountersPath("u1"), "users/u1/private/counters"},
		{PresencePath("u1"), "presence/u1"},
		{RoomPath("r1"), "rooms/r1"},
		{MembersCollectionPath("r1"), "rooms/r1/members"},
		{MemberPath("r1", "u1"), "rooms/r1/members/u1"},
		{MessagesCollectionPath("r1"), "rooms/r1/messages"},
		{MessagePath("r1", "m1"), "rooms/r1/messages/m1"},
		{TypingCollectionPath("r1"), "rooms/r1/typing"},
		{TypingPath("r1", "u1"), "rooms/r1/typing/u1"},
		{PushQueuePath("u1", "r1"), "pushQueue/u1_r1"},
		{AuditEntryPath("a1"), "auditLog/a1"},
		{MediaObjectPath("r1", "u1", "o1", "jpg"), "media/r1/u1/o1.jpg"},
		{ThumbObjectPath("r1", "u1", "o1"), "thumbs/r1/u1/o1.jpg"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("path = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParseDocPath(t *testing.T) {
	tests := []struct {
		path string
		want DocRef
	}{
		{"users/u1", DocRef{Kind: KindUser, UID: "u1"}},
		{"users/u1/memberships/r1", DocRef{Kind: KindMembership, UID: "u1", RoomID: "r1"}},
		{"users/u1/devices/d1", DocRef{Kind: KindDevice, UID: "u1", DeviceID: "d1"}},
		{"users/u1/inbox/r1", DocRef{Kind: KindInboxEntry, UID: "u1", RoomID: "r1"}},
		{"users/u1/private/counters", DocRef{Kind: KindCounters, UID: "u1"}},
		{"presence/u1", DocRef{Kind: KindPresence, UID: "u1"}},
		{"rooms/r1", DocRef{Kind: KindRoom, RoomID: "r1"}},
		{"rooms/r1/members/u1", DocRef{Kind: KindMember, RoomID: "r1", UID: "u1"}},
		{"rooms/r1/messages/m1", DocRef{Kind: KindMessage, RoomID: "r1", MessageID: "m1"}},
		{"rooms/r1/typing/u1", DocRef{Kind: KindTyping, RoomID: "r1", UID: "u1"}},
		{"pushQueue/u_1_r1", DocRef{Kind: KindPushQueue, UID: "u_1", RoomID: "r1"}},
		{"auditLog/a1", DocRef{Kind: KindAuditEntry, AuditID: "a1"}},
		{"documents/rooms/r1/messages/m1", DocRef{Kind: KindMessage, RoomID: "r1", MessageID: "m1"}},
		{"projects/demo-hearth/databases/(default)/documents/rooms/r1/messages/m1", DocRef{Kind: KindMessage, RoomID: "r1", MessageID: "m1"}},
		{"projects/p/databases/chat-db/documents/users/u1", DocRef{Kind: KindUser, UID: "u1"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := ParseDocPath(tt.path)
			if err != nil || got != tt.want {
				t.Fatalf("ParseDocPath(%q) = %+v, %v, want %+v, nil", tt.path, got, err, tt.want)
			}
			rel := tt.path[strings.Index(tt.path, tt.want.Path()):]
			if p := got.Path(); p != rel {
				t.Errorf("ParseDocPath(%q).Path() = %q, want %q", tt.path, p, rel)
			}
		})
	}
}

func TestParseDocPathRejects(t *testing.T) {
	tests := []struct {
		path    string
		idError bool // the error wraps a *ValidationError
	}{
		{"", false},
		{"users", false},
		{"users/", false},
		{"/users/u1", false},
		{"users/u1/", false},
		{"users//memberships/r1", false},
		{"rooms/r1/messages", false},
		{"rooms/r1/messages/m1/extra", false},
		{"rooms/r1/reactions/x", false},
		{"users/u1/private/other", false},
		{"chats/c1", false},
		{"documents/", false},
		{"documents", false},
		{"projects/p/databases/(default)/documents", false},
		{"projects/p/databases/(default)/documents/", false},
		{"projects/p/dbs/(default)/documents/users/u1", false},
		{"projects//databases/(default)/documents/users/u1", false},
		{"pushQueue/nounderscore", true},
		{"users/..", true},
		{"users/__x__", true},
		{"users/a.b", true},
		{"rooms/r_1", true},
		{"users/u1/memberships/r_1", true},
		{"rooms/r1/messages/" + strings.Repeat("m", MaxIDLen+1), true},
		{"users/ü", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := ParseDocPath(tt.path)
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseDocPath(%q) = %+v, %v, want *PathError", tt.path, got, err)
			}
			var ve *ValidationError
			if errors.As(err, &ve) != tt.idError {
				t.Errorf("ParseDocPath(%q) = %v, wraps *ValidationError = %v, want %v", tt.path, err, !tt.idError, tt.idError)
			}
		})
	}
}

func TestDocRefPathUnknownKind(t *testing.T) {
	if got := (DocRef{Kind: "nope", UID: "u1"}).Path(); got != "" {
		t.Errorf("DocRef{nope}.Path() = %q, want empty", got)
	}
}

// FuzzParseDocPath checks that ParseDocPath never panics and that whatever
// it accepts round-trips through DocRef.Path.
func FuzzParseDocPath(f *testing.F) {
	for _, s := range []string{
		"users/u1", "users/u1/private/counters", "rooms/r1/messages/m1", "pushQueue/a_b_c",
		"documents/presence/u", "projects/p/databases/(default)/documents/rooms/r1/typing/u1",
		"", "/", "//", "users/../x", "rooms/r_1", "auditLog/__a__", "projects/p/databases/d/documents",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		r, err := ParseDocPath(path)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseDocPath(%q) error = %T, want *PathError", path, err)
			}
			return
		}
		p := r.Path()
		if !strings.HasSuffix(path, p) {
			t.Fatalf("ParseDocPath(%q).Path() = %q, want a suffix of the input", path, p)
		}
		again, err := ParseDocPath(p)
		if err != nil || again != r {
			t.Fatalf("ParseDocPath(%q) = %+v, %v, want %+v, nil", p, again, err, r)
		}
	})
}
