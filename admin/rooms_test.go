package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestCreateRoom(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	alice, bob, carol := ts.newUser("Alice"), ts.newUser("Bob"), ts.newUser("")

	var got apiRoom
	r := ts.call("POST", "/v1/rooms", alice.Token, map[string]any{
		"title": "Team", "memberIds": []string{bob.UID, carol.UID, alice.UID},
	}, http.StatusCreated)
	r.decode(t, &got)
	if got.ID == "" || got.Type != model.RoomGroup || got.Title != "Team" || got.CreatedBy != alice.UID ||
		got.MemberCount != 3 || got.MyRole != model.RoleOwner {
		t.Errorf("POST /v1/rooms = %+v, want a group Team of 3 created by alice, myRole owner", got)
	}
	if loc := r.Header.Get("Location"); loc != "/v1/rooms/"+got.ID {
		t.Errorf("Location = %q, want /v1/rooms/%s", loc, got.ID)
	}
	if err := model.ValidateRoomID("roomId", got.ID); err != nil {
		t.Errorf("room id %q: %v", got.ID, err)
	}

	db := ts.env.Firestore()
	snap, err := db.Doc("rooms/" + got.ID).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stored model.Room
	snap.DataTo(&stored)
	if err := model.ValidateRoom(got.ID, stored); err != nil {
		t.Errorf("stored room invalid: %v", err)
	}
	wantRoles := map[string]model.Role{alice.UID: model.RoleOwner, bob.UID: model.RoleMember, carol.UID: model.RoleMember}
	for uid, role := range wantRoles {
		var m model.Member
		s, err := db.Doc(model.MemberPath(got.ID, uid)).Get(ctx)
		if err != nil {
			t.Fatalf("member %s: %v", uid, err)
		}
		s.DataTo(&m)
		if m.Role != role || m.Banned || m.JoinedAt.IsZero() {
			t.Errorf("member %s = %+v, want role %s", uid, m, role)
		}
	}
	var bobDoc model.Member
	s, _ := db.Doc(model.MemberPath(got.ID, bob.UID)).Get(ctx)
	s.DataTo(&bobDoc)
	if bobDoc.DisplayName != "Bob" {
		t.Errorf("bob's member displayName = %q, want Bob (from the profile)", bobDoc.DisplayName)
	}
	msgs, err := db.Collection("rooms/" + got.ID + "/messages").Documents(ctx).GetAll()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages = %d, %v; want 1 system message", len(msgs), err)
	}
	var m model.Message
	msgs[0].DataTo(&m)
	if m.Type != model.MessageSystem || m.SenderID != alice.UID || !strings.Contains(m.Text, "Alice created the group") || m.CreatedAt.IsZero() {
		t.Errorf("system message = %+v", m)
	}
	if err := model.ValidateMessage(got.ID, msgs[0].Ref.ID, m); err != nil {
		t.Errorf("system message invalid: %v", err)
	}

	t.Run("alone", func(t *testing.T) {
		var r apiRoom
		ts.call("POST", "/v1/rooms", alice.Token, map[string]any{"title": "Notes"}, http.StatusCreated).decode(t, &r)
		if r.MemberCount != 1 || !slices.Equal(r.MemberIDs, []string{alice.UID}) {
			t.Errorf("room = %+v, want alice alone", r)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		tests := []struct {
			name   string
			body   any
			fields []string
		}{
			{"no title", map[string]any{"memberIds": []string{bob.UID}}, []string{"title"}},
			{"long title", map[string]any{"title": strings.Repeat("x", model.MaxTitleLen+1)}, []string{"title"}},
			{"bad member id", map[string]any{"title": "t", "memberIds": []string{bob.UID, "a/b"}}, []string{"memberIds[1]"}},
			{"duplicate", map[string]any{"title": "t", "memberIds": []string{bob.UID, bob.UID}}, []string{"memberIds[1]"}},
			{"unknown user", map[string]any{"title": "t", "memberIds": []string{"nosuchuser123", bob.UID}}, []string{"memberIds[0]"}},
			{"http photo", map[string]any{"title": "t", "photoURL": "http://x.test/a.png"}, []string{"photoURL"}},
			{"title and member", map[string]any{"title": "", "memberIds": []string{""}}, []string{"memberIds[0]", "title"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := ts.do(req{method: "POST", path: "/v1/rooms", token: alice.Token, body: tt.body})
				e := r.errorBody()
				var fields []string
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
				}
				slices.Sort(fields)
				if r.Code != http.StatusBadRequest || e.Code != CodeInvalidArgument || !slices.Equal(fields, tt.fields) {
					t.Errorf("POST /v1/rooms %v = %s, want 400 with fields %v", tt.body, r, tt.fields)
				}
			})
		}
	})
	t.Run("too many members", func(t *testing.T) {
		ids := make([]string, model.MaxMembers)
		for i := range ids {
			ids[i] = fmt.Sprintf("u%d", i)
		}
		r := ts.do(req{method: "POST", path: "/v1/rooms", token: alice.Token, body: map[string]any{"title": "big", "memberIds": ids}})
		if r.Code != http.StatusBadRequest || len(r.errorBody().Fields) == 0 || r.errorBody().Fields[0].Field != "memberIds" {
			t.Errorf("POST /v1/rooms with %d others = %s, want 400 on memberIds", len(ids), r)
		}
	})
}

func TestDirectRoom(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice, bob := ts.newUser("Alice"), ts.newUser("Bob")
	want := model.DirectRoomID(alice.UID, bob.UID)

	var first, again, other apiRoom
	ts.call("POST", "/v1/rooms/direct", alice.Token, map[string]string{"userId": bob.UID}, http.StatusCreated).decode(t, &first)
	ts.call("POST", "/v1/rooms/direct", alice.Token, map[string]string{"userId": bob.UID}, http.StatusOK).decode(t, &again)
	ts.call("POST", "/v1/rooms/direct", bob.Token, map[string]string{"userId": alice.UID}, http.StatusOK).decode(t, &other)
	for _, r := range []apiRoom{first, again, other} {
		if r.ID != want || r.Type != model.RoomDirect || r.MemberCount != 2 {
			t.Errorf("direct room = %+v, want id %s, direct, 2 members", r, want)
		}
	}
	msgs, _ := ts.env.Firestore().Collection("rooms/" + want + "/messages").Documents(t.Context()).GetAll()
	if len(msgs) != 1 {
		t.Errorf("direct room has %d messages, want 1 system message (created once)", len(msgs))
	}
	var stored model.Room
	s, _ := ts.env.Firestore().Doc("rooms/" + want).Get(t.Context())
	s.DataTo(&stored)
	if err := model.ValidateRoom(want, stored); err != nil {
		t.Errorf("stored direct room invalid: %v", err)
	}

	tests := []struct {
		name string
		body any
		want int
	}{
		{"self", map[string]string{"userId": alice.UID}, http.StatusBadRequest},
		{"unknown user", map[string]string{"userId": "nosuchuser123"}, http.StatusNotFound},
		{"invalid id", map[string]string{"userId": "../x"}, http.StatusBadRequest},
		{"missing", map[string]string{}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := ts.do(req{method: "POST", path: "/v1/rooms/direct", token: alice.Token, body: tt.body}); r.Code != tt.want {
				t.Errorf("POST /v1/rooms/direct %v = %s, want %d", tt.body, r, tt.want)
			}
		})
	}
	t.Run("members fixed", func(t *testing.T) {
		carol := ts.newUser("Carol")
		for _, r := range []req{
			{method: "POST", path: "/v1/rooms/" + want + "/members", body: map[string]any{"userIds": []string{carol.UID}}},
			{method: "DELETE", path: "/v1/rooms/" + want + "/members/" + alice.UID},
			{method: "PATCH", path: "/v1/rooms/" + want + "/members/" + bob.UID, body: map[string]any{"role": "admin"}},
		} {
			r.token = alice.Token
			if got := ts.do(r); got.Code != http.StatusConflict || got.errorBody().Reason != ReasonDirectRoomFixed {
				t.Errorf("%s %s = %s, want 409 %s", r.method, r.path, got, ReasonDirectRoomFixed)
			}
		}
	})
}

func TestConcurrentDirectRoomIsOne(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice, bob := ts.newUser("Alice"), ts.newUser("Bob")
	const n = 6
	codes := make(chan int, n)
	for i := range n {
		go func() {
			tok, other := alice.Token, bob.UID
			if i%2 == 1 {
				tok, other = bob.Token, alice.UID
			}
			codes <- ts.do(req{method: "POST", path: "/v1/rooms/direct", token: tok, body: map[string]string{"userId": other}}).Code
		}()
	}
	created := 0
	for range n {
		switch c := <-codes; c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("concurrent POST /v1/rooms/direct = %d, want 200 or 201", c)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent calls created the room, want exactly 1", created, n)
	}
}

func TestGetRoom(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	tests := []struct {
		name  string
		token string
		want  int
		role  model.Role
	}{
		{"owner", r.owner.Token, 200, model.RoleOwner},
		{"admin", r.admin.Token, 200, model.RoleAdmin},
		{"member", r.member.Token, 200, model.RoleMember},
		{"non-member", r.nonMember.Token, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.do(req{method: "GET", path: "/v1/rooms/" + r.ID, token: tt.token})
			var got apiRoom
			if resp.Code == 200 {
				resp.decode(t, &got)
			}
			if resp.Code != tt.want || got.MyRole != tt.role {
				t.Errorf("GET room as %s = %d myRole %q, want %d %q", tt.name, resp.Code, got.MyRole, tt.want, tt.role)
			}
		})
	}
	if resp := ts.do(req{method: "GET", path: "/v1/rooms/nosuchroom", token: r.owner.Token}); resp.Code != 404 || resp.errorBody().Code != CodeNotFound {
		t.Errorf("GET missing room = %s, want 404 NOT_FOUND", resp)
	}
}

func TestAdminRooms(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.newAdmin("Root")
	r := ts.newRoom()
	var second apiRoom
	ts.clock.Advance(1e9)
	ts.call("POST", "/v1/rooms", r.owner.Token, map[string]any{"title": "Second"}, http.StatusCreated).decode(t, &second)

	t.Run("list pages newest first", func(t *testing.T) {
		var p1, p2 struct {
			Rooms         []apiRoom
			NextPageToken string
		}
		ts.call("GET", "/admin/v1/rooms?limit=1", admin.Token, nil, 200).decode(t, &p1)
		if len(p1.Rooms) != 1 || p1.Rooms[0].ID != second.ID || p1.NextPageToken == "" {
			t.Fatalf("page 1 = %+v, want [%s] and a token", p1, second.ID)
		}
		ts.call("GET", "/admin/v1/rooms?limit=1&pageToken="+p1.NextPageToken, admin.Token, nil, 200).decode(t, &p2)
		if len(p2.Rooms) != 1 || p2.Rooms[0].ID != r.ID {
			t.Errorf("page 2 = %+v, want [%s]", p2, r.ID)
		}
		var last struct {
			Rooms         []apiRoom
			NextPageToken string
		}
		ts.call("GET", "/admin/v1/rooms?limit=5", admin.Token, nil, 200).decode(t, &last)
		if len(last.Rooms) != 2 || last.NextPageToken != "" {
			t.Errorf("limit 5 = %d rooms, token %q; want 2 rooms, no token", len(last.Rooms), last.NextPageToken)
		}
	})
	t.Run("list filters", func(t *testing.T) {
		for _, bad := range []string{"?archived=maybe", "?type=channel", "?limit=0", "?limit=101", "?pageToken=a_b"} {
			if resp := ts.do(req{method: "GET", path: "/admin/v1/rooms" + bad, token: admin.Token}); resp.Code != 400 {
				t.Errorf("GET /admin/v1/rooms%s = %s, want 400", bad, resp)
			}
		}
	})
	t.Run("get with roster", func(t *testing.T) {
		var got apiRoom
		ts.call("GET", "/admin/v1/rooms/"+r.ID, admin.Token, nil, 200).decode(t, &got)
		if len(got.Members) != 3 {
			t.Errorf("roster = %+v, want 3 members", got.Members)
		}
		ts.call("GET", "/admin/v1/rooms/nosuchroom", admin.Token, nil, 404)
	})
	t.Run("archive", func(t *testing.T) {
		var got apiRoom
		ts.call("POST", "/admin/v1/rooms/"+r.ID+"/archive", admin.Token, map[string]string{"reason": "spam"}, 200).decode(t, &got)
		if !got.Archived {
			t.Errorf("archive = %+v, want archived", got)
		}
		var list struct{ Rooms []apiRoom }
		ts.call("GET", "/admin/v1/rooms?archived=true", admin.Token, nil, 200).decode(t, &list)
		if len(list.Rooms) != 1 || list.Rooms[0].ID != r.ID {
			t.Errorf("archived rooms = %+v, want [%s]", list.Rooms, r.ID)
		}
		resp := ts.do(req{method: "POST", path: "/v1/rooms/" + r.ID + "/members", token: r.owner.Token,
			body: map[string]any{"userIds": []string{r.nonMember.UID}}})
		if resp.Code != 409 || resp.errorBody().Reason != ReasonRoomArchived {
			t.Errorf("add member to archived room = %s, want 409 %s", resp, ReasonRoomArchived)
		}
		ts.call("POST", "/admin/v1/rooms/"+r.ID+"/unarchive", admin.Token, nil, 200).decode(t, &got)
		if got.Archived {
			t.Errorf("unarchive = %+v, want not archived", got)
		}
		ts.call("POST", "/admin/v1/rooms/nosuchroom/archive", admin.Token, nil, 404)
	})
	t.Run("delete recursively", func(t *testing.T) {
		ts.addMessage(second.ID, "m1", r.owner.UID, "hello", ts.clock.Now())
		if _, err := ts.env.Firestore().Doc("rooms/"+second.ID+"/typing/"+r.owner.UID).Set(t.Context(), map[string]any{"typing": true}); err != nil {
			t.Fatal(err)
		}
		ts.call("DELETE", "/admin/v1/rooms/"+second.ID, admin.Token, map[string]string{"reason": "cleanup"}, 204)
		for _, p := range []string{"rooms/" + second.ID, "rooms/" + second.ID + "/messages/m1",
			"rooms/" + second.ID + "/members/" + r.owner.UID, "rooms/" + second.ID + "/typing/" + r.owner.UID} {
			if _, err := ts.env.Firestore().Doc(p).Get(t.Context()); !firestoreerr.IsNotFound(err) {
				t.Errorf("after delete, Get(%s) = %v, want NotFound", p, err)
			}
		}
		ts.call("DELETE", "/admin/v1/rooms/"+second.ID, admin.Token, nil, 404)
	})
	got := ts.auditActions()
	want := []string{ActionRoomArchive, ActionRoomDelete, ActionRoomUnarchive}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("audit actions = %v, want %v", got, want)
	}
}

// TestRoomOfMaxMembers creates a group of MaxMembers in one transaction
// (1002 writes: the room, every member doc and the system message).
func TestRoomOfMaxMembers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	owner := ts.newUser("Owner")
	ids := make([]string, model.MaxMembers-1)
	users := make([]*auth.UserToImport, len(ids))
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-m%d", ts.env.ProjectID, i)
		users[i] = (&auth.UserToImport{}).UID(ids[i])
	}
	res, err := ts.env.Auth().ImportUsers(t.Context(), users)
	if err != nil || res.FailureCount > 0 {
		t.Fatalf("ImportUsers = %+v, %v", res, err)
	}
	var got apiRoom
	ts.call("POST", "/v1/rooms", owner.Token, map[string]any{"title": "Everyone", "memberIds": ids}, http.StatusCreated).decode(t, &got)
	if got.MemberCount != model.MaxMembers {
		t.Errorf("memberCount = %d, want %d", got.MemberCount, model.MaxMembers)
	}
	memberIDs, roles := ts.roster(got.ID)
	if len(memberIDs) != model.MaxMembers || len(roles) != model.MaxMembers {
		t.Errorf("stored %d memberIds, %d member docs; want %d", len(memberIDs), len(roles), model.MaxMembers)
	}
	extra := ts.newUser("Extra")
	resp := ts.do(req{method: "POST", path: "/v1/rooms/" + got.ID + "/members", token: owner.Token, body: map[string]any{"userIds": []string{extra.UID}}})
	if resp.Code != http.StatusConflict || resp.errorBody().Reason != ReasonRoomFull {
		t.Errorf("adding member %d = %s, want 409 %s", model.MaxMembers+1, resp, ReasonRoomFull)
	}
}
