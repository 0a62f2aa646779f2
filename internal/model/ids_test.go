package model

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"firebase uid", "hQ3yY1Xq0pZr5kVb2Nn8TtGgWw12", true},
		{"firestore auto id", "Zx9fK2LmQ8rT1uVw3YbC", true},
		{"uuid", "3f1c2b9e-8d7a-4c6b-9e0f-1a2b3c4d5e6f", true},
		{"fcm installation id", "dGVzdF9pZF8xMjM0NTY3", true},
		{"underscores", "a_b_c", true},
		{"one char", "a", true},
		{"max len", strings.Repeat("a", MaxIDLen), true},
		{"three underscores", "___", true},
		{"reserved-looking prefix only", "__abc", true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", MaxIDLen+1), false},
		{"slash", "a/b", false},
		{"dot", ".", false},
		{"dotdot", "..", false},
		{"dot inside", "a.b", false},
		{"space", "a b", false},
		{"reserved", "__id__", false},
		{"reserved minimal", "____", false},
		{"non-ascii", "ü", false},
		{"email", "a@b.com", false},
		{"nul", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateID("uid", tt.id)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && !wantFields(err, "uid") {
				t.Errorf("ValidateID(%q) fields = %v, want [uid]", tt.id, fieldsOf(err))
			}
		})
	}
}

func TestValidateRoomID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"Zx9fK2LmQ8rT1uVw3YbC", true},
		{DirectRoomID("alice", "bob"), true},
		{"team-1", true},
		{"team_1", false}, // '_' would make pushQueue ids ambiguous
		{"", false},
		{strings.Repeat("r", MaxIDLen+1), false},
		{"a/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if err := ValidateRoomID("roomId", tt.id); (err == nil) != tt.ok {
				t.Errorf("ValidateRoomID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
		})
	}
}

func TestDirectRoomID(t *testing.T) {
	// Golden values: printf 'alice/bob' | sha256sum | cut -c1-32. They pin
	// the algorithm that clients may reimplement; never change them.
	golden := []struct{ a, b, want string }{
		{"alice", "bob", "dm-0a138d32cbbfaafa334ba8531d22595e"},
		{"abc", "Abc", "dm-ec21a2993014026b0189016aef482fc5"}, // byte order: 'A' < 'a'
	}
	for _, g := range golden {
		if got := DirectRoomID(g.a, g.b); got != g.want {
			t.Errorf("DirectRoomID(%q, %q) = %q, want %q", g.a, g.b, got, g.want)
		}
		if got := DirectRoomID(g.b, g.a); got != g.want {
			t.Errorf("DirectRoomID(%q, %q) = %q, want %q (symmetric)", g.b, g.a, got, g.want)
		}
	}
	long := strings.Repeat("u", MaxIDLen)
	pairs := [][2]string{{"a", "b"}, {"ab", "c"}, {"a", "bc"}, {long, long[:MaxIDLen-1] + "v"}, {"x", "y"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		id := DirectRoomID(p[0], p[1])
		if err := ValidateRoomID("roomId", id); err != nil {
			t.Errorf("ValidateRoomID(DirectRoomID(%q, %q) = %q) = %v, want nil", p[0], p[1], id, err)
		}
		if !IsDirectRoomID(id) {
			t.Errorf("IsDirectRoomID(%q) = false, want true", id)
		}
		if q, dup := seen[id]; dup {
			t.Errorf("DirectRoomID(%q) = DirectRoomID(%q) = %q, want distinct", p, q, id)
		}
		seen[id] = p
	}
}

func TestIsDirectRoomID(t *testing.T) {
	for _, id := range []string{"", "dm-", "dm-0A138D32CBBFAAFA334BA8531D22595E", "dm-0a138d32", "xx-0a138d32cbbfaafa334ba8531d22595e", "dm-0a138d32cbbfaafa334ba8531d22595g"} {
		if IsDirectRoomID(id) {
			t.Errorf("IsDirectRoomID(%q) = true, want false", id)
		}
	}
}

func TestPushQueueID(t *testing.T) {
	tests := []struct{ uid, roomID string }{
		{"alice", "room1"},
		{"a_b", "c"}, // a uid with '_' still splits right: room ids have none
		{"a", "b-c"},
		{"_", DirectRoomID("a", "b")},
	}
	for _, tt := range tests {
		id := PushQueueID(tt.uid, tt.roomID)
		uid, roomID, err := ParsePushQueueID(id)
		if err != nil || uid != tt.uid || roomID != tt.roomID {
			t.Errorf("ParsePushQueueID(%q) = %q, %q, %v, want %q, %q, nil", id, uid, roomID, err, tt.uid, tt.roomID)
		}
	}
	for _, bad := range []string{"", "alice", "_room", "alice_", "a.b_c", "alice_ro.om"} {
		_, _, err := ParsePushQueueID(bad)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("ParsePushQueueID(%q) = %v, want *ValidationError", bad, err)
		}
	}
}

// FuzzValidateID checks that ValidateID accepts exactly what the rules'
// patterns accept, so the Go code and the rendered rules never disagree.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"", "a", "a_b", "__x__", "____", "___", "a/b", ".", "..", "ü", strings.Repeat("z", MaxIDLen+1), "3f1c2b9e-8d7a-4c6b-9e0f-1a2b3c4d5e6f"} {
		f.Add(s)
	}
	idRE := regexp.MustCompile(`^(?:` + IDPattern + `)$`)
	roomRE := regexp.MustCompile(`^(?:` + RoomIDPattern + `)$`)
	reservedRE := regexp.MustCompile(`^(?:` + ReservedIDPattern + `)$`)
	f.Fuzz(func(t *testing.T, id string) {
		wantID := idRE.MatchString(id) && !reservedRE.MatchString(id)
		if got := ValidateID("id", id) == nil; got != wantID {
			t.Errorf("ValidateID(%q) ok = %v, want %v (IDPattern and ReservedIDPattern)", id, got, wantID)
		}
		wantRoom := roomRE.MatchString(id) && !reservedRE.MatchString(id)
		if got := ValidateRoomID("roomId", id) == nil; got != wantRoom {
			t.Errorf("ValidateRoomID(%q) ok = %v, want %v (RoomIDPattern)", id, got, wantRoom)
		}
	})
}
