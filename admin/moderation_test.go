package admin

import (
	"slices"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestBan(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	r := ts.newRoom()
	appAdmin := ts.newAdmin("Root")
	// What the functions would have created for the member on join.
	for _, p := range []string{model.MembershipPath(r.member.UID, r.ID), model.InboxEntryPath(r.member.UID, r.ID), model.TypingPath(r.ID, r.member.UID)} {
		if _, err := db.Doc(p).Set(ctx, map[string]any{"x": 1}); err != nil {
			t.Fatal(err)
		}
	}
	ban := func(prefix, token, uid string) response {
		return ts.do(req{method: "POST", path: prefix + "/rooms/" + r.ID + "/members/" + uid + "/ban", token: token,
			body: map[string]string{"reason": "spam"}})
	}
	tests := []struct {
		name   string
		prefix string
		token  string
		target string
		want   int
		reason string
	}{
		{"member may not ban", "/v1", r.member.Token, r.admin.UID, 403, ReasonRoleInsufficient},
		{"admin may not ban the owner", "/v1", r.admin.Token, r.owner.UID, 403, ReasonRoleInsufficient},
		{"nobody bans themselves", "/v1", r.owner.Token, r.owner.UID, 409, ReasonSelfAction},
		{"non-member", "/v1", r.nonMember.Token, r.member.UID, 404, ""},
		{"target not a member", "/v1", r.owner.Token, r.nonMember.UID, 404, ""},
		{"non-admin on admin route", "/admin/v1", r.owner.Token, r.member.UID, 403, ReasonAdminRequired},
		{"room admin bans a member", "/v1", r.admin.Token, r.member.UID, 200, ""},
		{"banning again at the same rank is a no-op", "/v1", r.admin.Token, r.member.UID, 200, ""},
		{"app admin bans anyone", "/admin/v1", appAdmin.Token, r.owner.UID, 200, ""},
	}
	for _, tt := range tests {
		if resp := ban(tt.prefix, tt.token, tt.target); resp.Code != tt.want || resp.errorBody().Reason != tt.reason {
			t.Errorf("%s: ban = %s, want %d %q", tt.name, resp, tt.want, tt.reason)
		}
	}
	ids, _ := ts.roster(r.ID)
	if slices.Contains(ids, r.member.UID) || slices.Contains(ids, r.owner.UID) {
		t.Errorf("memberIds = %v, want the banned users gone", ids)
	}
	var m model.Member
	s, err := db.Doc(model.MemberPath(r.ID, r.member.UID)).Get(ctx)
	if err != nil {
		t.Fatalf("banned member doc: %v (want it kept)", err)
	}
	s.DataTo(&m)
	if !m.Banned || m.BannedBy != r.admin.UID || m.Role != model.RoleMember || !m.BannedAt.Equal(ts.clock.Now().UTC()) {
		t.Errorf("banned member doc = %+v", m)
	}
	for _, p := range []string{model.MembershipPath(r.member.UID, r.ID), model.InboxEntryPath(r.member.UID, r.ID), model.TypingPath(r.ID, r.member.UID)} {
		if _, err := db.Doc(p).Get(ctx); !firestoreerr.IsNotFound(err) {
			t.Errorf("Get(%s) after ban = %v, want NotFound", p, err)
		}
	}
	// The banned member sees nothing and cannot be re-added.
	ts.call("GET", "/v1/rooms/"+r.ID, r.member.Token, nil, 404)
	resp := ts.do(req{method: "POST", path: "/v1/rooms/" + r.ID + "/members", token: r.admin.Token,
		body: map[string]any{"userIds": []string{r.member.UID}}})
	if resp.Code != 409 || resp.errorBody().Reason != ReasonUserBanned || resp.errorBody().Fields[0].Field != "userIds[0]" {
		t.Errorf("re-adding a banned user = %s, want 409 USER_BANNED on userIds[0]", resp)
	}

	// Unban: member doc gone, then the user can be added again.
	ts.call("DELETE", "/v1/rooms/"+r.ID+"/members/"+r.member.UID+"/ban", r.member.Token, nil, 404)
	ts.call("DELETE", "/v1/rooms/"+r.ID+"/members/"+r.member.UID+"/ban", r.admin.Token, nil, 204)
	if resp := ts.do(req{method: "DELETE", path: "/v1/rooms/" + r.ID + "/members/" + r.member.UID + "/ban", token: r.admin.Token}); resp.Code != 404 || resp.errorBody().Reason != ReasonNotBanned {
		t.Errorf("second unban = %s, want 404 NOT_BANNED", resp)
	}
	ts.call("POST", "/v1/rooms/"+r.ID+"/members", r.admin.Token, map[string]any{"userIds": []string{r.member.UID}}, 200)
	ts.call("DELETE", "/admin/v1/rooms/"+r.ID+"/members/"+r.owner.UID+"/ban", appAdmin.Token, map[string]string{"reason": "appeal"}, 204)

	got := ts.auditActions()
	slices.Sort(got)
	want := []string{ActionMemberBan, ActionMemberBan, ActionMemberUnban, ActionMemberUnban}
	if !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	r := ts.newRoom()
	appAdmin := ts.newAdmin("Root")
	at := time.Now()
	if _, err := db.Doc(model.MessagePath(r.ID, "m1")).Set(ctx, map[string]any{
		"senderId": r.member.UID, "type": "image", "text": "look", "mentions": []string{r.owner.UID}, "createdAt": at,
		"media": map[string]any{"path": model.MediaObjectPath(r.ID, r.member.UID, "x", "jpg"), "contentType": "image/jpeg", "size": 10, "status": "ready"},
	}); err != nil {
		t.Fatal(err)
	}
	ts.addMessage(r.ID, "m2", r.owner.UID, "hi", at)

	redact := func(prefix, token, id string) response {
		return ts.do(req{method: "POST", path: prefix + "/rooms/" + r.ID + "/messages/" + id + "/redact", token: token})
	}
	tests := []struct {
		name, prefix, token, id string
		want                    int
	}{
		{"member may not", "/v1", r.member.Token, "m1", 403},
		{"non-member", "/v1", r.nonMember.Token, "m1", 404},
		{"unknown message", "/v1", r.admin.Token, "nosuch", 404},
		{"bad id", "/v1", r.admin.Token, "a.b", 400},
		{"room admin", "/v1", r.admin.Token, "m1", 200},
		{"again is a no-op", "/v1", r.owner.Token, "m1", 200},
		{"app admin", "/admin/v1", appAdmin.Token, "m2", 200},
	}
	for _, tt := range tests {
		if resp := redact(tt.prefix, tt.token, tt.id); resp.Code != tt.want {
			t.Errorf("%s: redact = %s, want %d", tt.name, resp, tt.want)
		}
	}
	s, _ := db.Doc(model.MessagePath(r.ID, "m1")).Get(ctx)
	var m model.Message
	s.DataTo(&m)
	if !m.Deleted() || m.DeletedBy != r.admin.UID || m.Text != "" || m.Media != nil || len(m.Mentions) != 0 || m.SenderID != r.member.UID {
		t.Errorf("redacted m1 = %+v, want a tombstone by the room admin", m)
	}
	if err := model.ValidateMessage(r.ID, "m1", m); err != nil {
		t.Errorf("tombstone invalid: %v", err)
	}
	if got := ts.auditActions(); !slices.Equal(got, []string{ActionMessageRedact, ActionMessageRedact}) {
		t.Errorf("audit = %v, want two redactions (the no-op is not audited)", got)
	}
}
