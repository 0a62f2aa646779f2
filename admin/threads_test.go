package admin

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestListThread: GET /v1/rooms/{roomId}/messages?thread=ID pages the replies to ID,
// newest first, with the same cursor as the history; messages outside the thread never
// appear; an unknown root is a 404, a cursor outside the thread a 400, and a non-member
// learns nothing.
func TestListThread(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	other := ts.newRoom()
	base := time.Now().Add(time.Hour)
	uid := r.member.UID
	ts.addMessage(r.ID, "root", uid, "question", base)
	ts.addMessage(r.ID, "plain", uid, "not in the thread", base.Add(time.Second))
	reply := func(room, id, to string, at time.Time) {
		t.Helper()
		if _, err := ts.env.Firestore().Doc("rooms/"+room+"/messages/"+id).Set(t.Context(), map[string]any{
			"senderId": uid, "type": "text", "text": id, "replyTo": to, "createdAt": at,
		}); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("r%d", i)
		reply(r.ID, id, "root", base.Add(time.Duration(2+i)*time.Second))
		want = append([]string{id}, want...)
	}
	reply(r.ID, "elsewhere", "plain", base.Add(10*time.Second)) // another thread
	reply(other.ID, "r9", "root", base.Add(11*time.Second))     // another room's "root"
	var seen []string
	for _, p := range ts.messagePages("/v1/rooms/"+r.ID+"/messages?thread=root&limit=2", r.member.Token, 5) {
		for _, m := range p.Messages {
			seen = append(seen, m.ID)
			if m.ReplyTo != "root" {
				t.Errorf("message %s in the thread replies to %q", m.ID, m.ReplyTo)
			}
		}
	}
	if !slices.Equal(seen, want) {
		t.Errorf("thread pages = %v, want %v", seen, want)
	}
	tests := []struct {
		name, query, token string
		want               int
	}{
		{"unknown root", "?thread=nosuch", r.member.Token, 404},
		{"invalid root", "?thread=a%2Fb", r.member.Token, 400},
		{"cursor outside the thread", "?thread=root&before=plain", r.member.Token, 400},
		{"cursor of another thread", "?thread=root&before=elsewhere", r.member.Token, 400},
		{"unknown cursor", "?thread=root&before=nosuch", r.member.Token, 400},
		{"non-member", "?thread=root", r.nonMember.Token, 404},
		{"no token", "?thread=root", "", 401},
		{"another thread", "?thread=plain", r.member.Token, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := ts.do(req{method: "GET", path: "/v1/rooms/" + r.ID + "/messages" + tt.query, token: tt.token}); resp.Code != tt.want {
				t.Errorf("GET messages%s = %s, want %d", tt.query, resp, tt.want)
			}
		})
	}
}
