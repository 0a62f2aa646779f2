package admin

import (
	"slices"
	"testing"

	"github.com/hearth-chat/hearth/internal/model"
)

// roster returns the room's memberIds and the role of each member doc.
func (ts *testServer) roster(roomID string) ([]string, map[string]model.Role) {
	ts.t.Helper()
	ctx := ts.t.Context()
	s, err := ts.env.Firestore().Doc("rooms/" + roomID).Get(ctx)
	if err != nil {
		ts.t.Fatalf("room: %v", err)
	}
	var r model.Room
	s.DataTo(&r)
	if r.MemberCount != len(r.MemberIDs) {
		ts.t.Errorf("memberCount %d != len(memberIds) %d", r.MemberCount, len(r.MemberIDs))
	}
	docs, err := ts.env.Firestore().Collection("rooms/" + roomID + "/members").Documents(ctx).GetAll()
	if err != nil {
		ts.t.Fatalf("members: %v", err)
	}
	roles := map[string]model.Role{}
	for _, d := range docs {
		var m model.Member
		d.DataTo(&m)
		roles[d.Ref.ID] = m.Role
	}
	return r.MemberIDs, roles
}

func TestAddMembers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	dan, eve := ts.newUser("Dan"), ts.newUser("Eve")
	path := "/v1/rooms/" + r.ID + "/members"

	var got addMembersResponse
	ts.call("POST", path, r.admin.Token, map[string]any{"userIds": []string{dan.UID, r.member.UID}}, 200).decode(t, &got)
	if len(got.Added) != 1 || got.Added[0].UID != dan.UID || got.Added[0].DisplayName != "Dan" || got.MemberCount != 4 {
		t.Errorf("add = %+v, want dan added (member already there skipped), 4 members", got)
	}
	ids, roles := ts.roster(r.ID)
	if !slices.Contains(ids, dan.UID) || roles[dan.UID] != model.RoleMember {
		t.Errorf("roster = %v %v, want dan a member", ids, roles)
	}
	// A retry adds nothing.
	ts.call("POST", path, r.owner.Token, map[string]any{"userIds": []string{dan.UID}}, 200).decode(t, &got)
	if len(got.Added) != 0 || got.MemberCount != 4 {
		t.Errorf("retry = %+v, want nothing added", got)
	}

	tests := []struct {
		name   string
		token  string
		body   any
		want   int
		reason string
	}{
		{"member may not add", r.member.Token, map[string]any{"userIds": []string{eve.UID}}, 403, ReasonRoleInsufficient},
		{"non-member gets 404", r.nonMember.Token, map[string]any{"userIds": []string{eve.UID}}, 404, ""},
		{"empty list", r.owner.Token, map[string]any{"userIds": []string{}}, 400, ""},
		{"unknown user", r.owner.Token, map[string]any{"userIds": []string{"nosuchuser123"}}, 400, ""},
		{"bad id", r.owner.Token, map[string]any{"userIds": []string{"x.y"}}, 400, ""},
		{"wrong type", r.owner.Token, map[string]any{"userIds": "abc"}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.do(req{method: "POST", path: path, token: tt.token, body: tt.body})
			if resp.Code != tt.want || resp.errorBody().Reason != tt.reason {
				t.Errorf("POST members = %s, want %d %q", resp, tt.want, tt.reason)
			}
		})
	}
	msgs, _ := ts.env.Firestore().Collection("rooms/" + r.ID + "/messages").Documents(t.Context()).GetAll()
	// created, made admin, added Dan
	if len(msgs) != 3 {
		t.Errorf("system messages = %d, want 3", len(msgs))
	}
}

func TestSetMemberRole(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	path := func(uid string) string { return "/v1/rooms/" + r.ID + "/members/" + uid }

	tests := []struct {
		name   string
		token  string
		target string
		role   string
		want   int
		reason string
	}{
		{"admin may not change roles", r.admin.Token, r.member.UID, "admin", 403, ReasonRoleInsufficient},
		{"member may not", r.member.Token, r.member.UID, "owner", 403, ReasonRoleInsufficient},
		{"non-member", r.nonMember.Token, r.member.UID, "admin", 404, ""},
		{"unknown role", r.owner.Token, r.member.UID, "king", 400, ""},
		{"not a member", r.owner.Token, r.nonMember.UID, "admin", 404, ""},
		{"last owner cannot step down", r.owner.Token, r.owner.UID, "member", 409, ReasonLastOwner},
		{"owner promotes", r.owner.Token, r.member.UID, "admin", 200, ""},
		{"same role is a no-op", r.owner.Token, r.member.UID, "admin", 200, ""},
		{"owner makes a co-owner", r.owner.Token, r.admin.UID, "owner", 200, ""},
		{"now the first owner may step down", r.owner.Token, r.owner.UID, "member", 200, ""},
	}
	for _, tt := range tests {
		resp := ts.do(req{method: "PATCH", path: path(tt.target), token: tt.token, body: map[string]string{"role": tt.role}})
		if resp.Code != tt.want || resp.errorBody().Reason != tt.reason {
			t.Errorf("%s: PATCH role %s = %s, want %d %q", tt.name, tt.role, resp, tt.want, tt.reason)
		}
	}
	_, roles := ts.roster(r.ID)
	want := map[string]model.Role{r.owner.UID: model.RoleMember, r.admin.UID: model.RoleOwner, r.member.UID: model.RoleAdmin}
	for uid, role := range want {
		if roles[uid] != role {
			t.Errorf("role of %s = %s, want %s", uid, roles[uid], role)
		}
	}
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	dan := ts.newUser("Dan")
	ts.call("POST", "/v1/rooms/"+r.ID+"/members", r.owner.Token, map[string]any{"userIds": []string{dan.UID}}, 200)
	del := func(token, uid string) response {
		return ts.do(req{method: "DELETE", path: "/v1/rooms/" + r.ID + "/members/" + uid, token: token})
	}
	tests := []struct {
		name   string
		token  string
		target string
		want   int
		reason string
	}{
		{"member may not remove others", r.member.Token, dan.UID, 403, ReasonRoleInsufficient},
		{"admin may not remove the owner", r.admin.Token, r.owner.UID, 403, ReasonRoleInsufficient},
		{"non-member", r.nonMember.Token, dan.UID, 404, ""},
		{"target not a member", r.owner.Token, r.nonMember.UID, 404, ""},
		{"sole owner may not leave others behind", r.owner.Token, r.owner.UID, 409, ReasonLastOwner},
		{"admin removes a member", r.admin.Token, dan.UID, 204, ""},
		{"member leaves", r.member.Token, r.member.UID, 204, ""},
		{"owner removes an admin", r.owner.Token, r.admin.UID, 204, ""},
		{"last member leaves", r.owner.Token, r.owner.UID, 204, ""},
	}
	for _, tt := range tests {
		if resp := del(tt.token, tt.target); resp.Code != tt.want || resp.errorBody().Reason != tt.reason {
			t.Errorf("%s: DELETE member = %s, want %d %q", tt.name, resp, tt.want, tt.reason)
		}
	}
	ids, roles := ts.roster(r.ID)
	if len(ids) != 0 || len(roles) != 0 {
		t.Errorf("after everyone left: memberIds %v, member docs %v; want none", ids, roles)
	}
	s, _ := ts.env.Firestore().Doc("rooms/" + r.ID).Get(t.Context())
	if a, _ := s.DataAt("archived"); a != true {
		t.Errorf("empty room archived = %v, want true", a)
	}
}
