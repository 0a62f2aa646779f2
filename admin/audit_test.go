package admin

import (
	"net/http"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestAuditLog(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	root, other := ts.newAdmin("Root"), ts.newAdmin("Other")
	r := ts.newRoom()
	// Three actions by root, one by other, a second apart.
	for _, a := range []struct {
		token, path string
	}{
		{root.Token, "/admin/v1/rooms/" + r.ID + "/archive"},
		{root.Token, "/admin/v1/rooms/" + r.ID + "/unarchive"},
		{other.Token, "/admin/v1/rooms/" + r.ID + "/archive"},
		{root.Token, "/admin/v1/users/" + r.member.UID + "/revoke-tokens"},
	} {
		ts.clock.Advance(time.Second)
		ts.do(req{method: "POST", path: a.path, token: a.token, body: map[string]string{"reason": "test"},
			header: map[string]string{RequestIDHeader: "req-audit"}})
	}
	type page struct {
		Entries       []apiAuditEntry
		NextPageToken string
	}
	var p1, p2 page
	ts.call("GET", "/admin/v1/audit?limit=3", root.Token, nil, http.StatusOK).decode(t, &p1)
	if len(p1.Entries) != 3 || p1.NextPageToken == "" {
		t.Fatalf("page 1 = %+v, want 3 entries and a token", p1)
	}
	e := p1.Entries[0]
	if e.Action != ActionUserRevokeTokens || e.ActorUID != root.UID || e.Target != model.UserPath(r.member.UID) ||
		e.Reason != "test" || e.RequestID != "req-audit" || !e.At.Equal(ts.clock.Now().UTC()) {
		t.Errorf("newest entry = %+v", e)
	}
	ts.call("GET", "/admin/v1/audit?limit=3&pageToken="+p1.NextPageToken, root.Token, nil, http.StatusOK).decode(t, &p2)
	if len(p2.Entries) != 1 || p2.Entries[0].Action != ActionRoomArchive || p2.Entries[0].Target != model.RoomPath(r.ID) || p2.NextPageToken != "" {
		t.Errorf("page 2 = %+v, want the first archive", p2)
	}
	var byActor, byAction page
	ts.call("GET", "/admin/v1/audit?actor="+other.UID, root.Token, nil, http.StatusOK).decode(t, &byActor)
	if len(byActor.Entries) != 1 || byActor.Entries[0].ActorUID != other.UID {
		t.Errorf("by actor = %+v", byActor)
	}
	ts.call("GET", "/admin/v1/audit?action="+ActionRoomArchive, root.Token, nil, http.StatusOK).decode(t, &byAction)
	if len(byAction.Entries) != 2 {
		t.Errorf("by action = %d entries, want 2", len(byAction.Entries))
	}
	ts.call("GET", "/admin/v1/audit?pageToken=nosuch", root.Token, nil, http.StatusBadRequest)
	if resp := ts.do(req{method: "POST", path: "/admin/v1/rooms/" + r.ID + "/archive", token: root.Token,
		body: map[string]string{"reason": string(make([]byte, MaxReasonLen+1))}}); resp.Code != 400 {
		t.Errorf("control characters in reason = %d, want 400", resp.Code)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	root := ts.newAdmin("Root")
	r := ts.newRoom() // 4 profiles + root = 5, 1 group, 3 system messages
	ts.call("POST", "/v1/rooms/direct", r.owner.Token, map[string]string{"userId": r.member.UID}, http.StatusCreated)
	ts.call("PUT", "/v1/devices/d1", r.owner.Token, map[string]string{"token": "t-" + ts.env.ProjectID, "platform": "ios"}, 200)
	ts.call("POST", "/admin/v1/rooms/"+r.ID+"/archive", root.Token, nil, 200)
	var s statsResponse
	ts.call("GET", "/admin/v1/stats", root.Token, nil, http.StatusOK).decode(t, &s)
	want := statsResponse{Users: 5, Rooms: 2, GroupRooms: 1, DirectRooms: 1, ArchivedRooms: 1, Messages: 3, Devices: 1, AuditEntries: 1}
	want.GeneratedAt = s.GeneratedAt
	if s != want {
		t.Errorf("stats = %+v, want %+v", s, want)
	}
}
