package model

import (
	"fmt"
	"testing"
)

func uids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%d", i)
	}
	return out
}

func TestValidateRoom(t *testing.T) {
	group := Room{Type: RoomGroup, Title: "Team", CreatedBy: "u0", CreatedAt: t0, MemberIDs: []string{"u0", "u1", "u2"}, MemberCount: 3, LastMessageAt: t0}
	dmID := DirectRoomID("alice", "bob")
	direct := Room{Type: RoomDirect, CreatedBy: "alice", CreatedAt: t0, MemberIDs: []string{"bob", "alice"}, MemberCount: 2, LastMessageAt: t0}
	tests := []struct {
		name      string
		roomID    string
		base      Room
		edit      func(*Room)
		wantField string
	}{
		{"group", "Zx9fK2LmQ8rT1uVw3YbC", group, func(*Room) {}, ""},
		{"group with photo, archived", "g1", group, func(r *Room) { r.PhotoURL = "https://e.com/p.jpg"; r.Archived = true }, ""},
		{"group alone", "g1", group, func(r *Room) { r.MemberIDs = []string{"u0"}; r.MemberCount = 1 }, ""},
		{"group max members", "g1", group, func(r *Room) { r.MemberIDs = uids(MaxMembers); r.MemberCount = MaxMembers }, ""},
		{"group too many members", "g1", group, func(r *Room) { r.MemberIDs = uids(MaxMembers + 1); r.MemberCount = MaxMembers + 1 }, "memberIds"},
		{"group no members", "g1", group, func(r *Room) { r.MemberIDs = nil; r.MemberCount = 0 }, "memberIds"},
		{"group duplicate member", "g1", group, func(r *Room) { r.MemberIDs = []string{"u0", "u0"}; r.MemberCount = 2 }, "memberIds[1]"},
		{"group bad member", "g1", group, func(r *Room) { r.MemberIDs = []string{"u0", "a/b"}; r.MemberCount = 2 }, "memberIds[1]"},
		{"group title max", "g1", group, func(r *Room) { r.Title = runes('é', MaxTitleLen) }, ""},
		{"group title too long", "g1", group, func(r *Room) { r.Title = runes('é', MaxTitleLen+1) }, "title"},
		{"group no title", "g1", group, func(r *Room) { r.Title = "" }, "title"},
		{"group title control", "g1", group, func(r *Room) { r.Title = "a\tb" }, "title"},
		{"group direct-looking id", dmID, group, func(*Room) {}, "roomId"},
		{"group count mismatch", "g1", group, func(r *Room) { r.MemberCount = 4 }, "memberCount"},
		{"group bad photo", "g1", group, func(r *Room) { r.PhotoURL = "ftp://e.com/p" }, "photoURL"},
		{"bad creator", "g1", group, func(r *Room) { r.CreatedBy = "" }, "createdBy"},
		{"negative messages", "g1", group, func(r *Room) { r.MessageCount = -1 }, "messageCount"},
		{"room id with underscore", "g_1", group, func(*Room) {}, "roomId"},
		{"unknown type", "g1", group, func(r *Room) { r.Type = "channel" }, "type"},
		{"direct", dmID, direct, func(*Room) {}, ""},
		{"direct wrong id", "d1", direct, func(*Room) {}, "roomId"},
		{"direct with title", dmID, direct, func(r *Room) { r.Title = "Us" }, "title"},
		{"direct one member", dmID, direct, func(r *Room) { r.MemberIDs = []string{"alice"}; r.MemberCount = 1 }, "memberIds"},
		{"direct three members", dmID, direct, func(r *Room) { r.MemberIDs = []string{"alice", "bob", "carol"}; r.MemberCount = 3 }, "memberIds"},
		{"direct with oneself", DirectRoomID("alice", "alice"), direct, func(r *Room) { r.MemberIDs = []string{"alice", "alice"} }, "memberIds[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.base
			tt.edit(&r)
			if err := ValidateRoom(tt.roomID, r); !wantFields(err, tt.wantField) {
				t.Errorf("ValidateRoom(%q, %s %q %d members) = %v, want error on %q", tt.roomID, r.Type, r.Title, len(r.MemberIDs), err, tt.wantField)
			}
		})
	}
}

func TestRoleCanModerate(t *testing.T) {
	for _, tt := range []struct {
		r    Role
		want bool
	}{{RoleOwner, true}, {RoleAdmin, true}, {RoleMember, false}, {"banned", false}} {
		if got := tt.r.CanModerate(); got != tt.want {
			t.Errorf("Role(%q).CanModerate() = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestEnumsValid(t *testing.T) {
	type enum interface{ Valid() bool }
	var all []enum
	for _, v := range MessageTypes() {
		all = append(all, v)
	}
	for _, v := range RoomTypes() {
		all = append(all, v)
	}
	for _, v := range Roles() {
		all = append(all, v)
	}
	for _, v := range PresenceStates() {
		all = append(all, v)
	}
	for _, v := range NotificationLevels() {
		all = append(all, v)
	}
	for _, v := range Platforms() {
		all = append(all, v)
	}
	for _, v := range MediaStatuses() {
		all = append(all, v)
	}
	for _, v := range all {
		if !v.Valid() {
			t.Errorf("%T(%v).Valid() = false, want true", v, v)
		}
	}
	invalid := []enum{MessageType(""), RoomType("x"), Role("banned"), PresenceState("busy"), NotificationLevel("some"), Platform("windows"), MediaStatus("done")}
	for _, v := range invalid {
		if v.Valid() {
			t.Errorf("%T(%q).Valid() = true, want false", v, v)
		}
	}
}
