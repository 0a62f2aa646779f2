package admin

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestListMessages(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	// 7 messages, two of them at the same instant, all after the system
	// messages of the room's creation.
	base := time.Now().Add(time.Hour)
	for i := range 7 {
		at := base.Add(time.Duration(i) * time.Second)
		if i == 6 {
			at = base.Add(5 * time.Second)
		}
		ts.addMessage(r.ID, fmt.Sprintf("m%d", i), r.member.UID, fmt.Sprintf("text %d", i), at)
	}
	var seen []string
	for page, p := range ts.messagePages("/v1/rooms/"+r.ID+"/messages?limit=3", r.member.Token, 4) {
		for _, m := range p.Messages {
			seen = append(seen, m.ID)
		}
		if p.NextCursor != "" && len(p.Messages) != 3 {
			t.Fatalf("page %d has %d messages and a cursor, want 3", page, len(p.Messages))
		}
	}
	// m6 and m5 share createdAt: document id descending breaks the tie.
	want := []string{"m6", "m5", "m4", "m3", "m2", "m1", "m0"}
	if len(seen) != len(want)+2 {
		t.Fatalf("paged ids = %v, want %v then the 2 system messages", seen, want)
	}
	for i, id := range want {
		if seen[i] != id {
			t.Fatalf("paged ids = %v, want %v first", seen, want)
		}
	}

	t.Run("tombstones stay", func(t *testing.T) {
		ts.call("POST", "/v1/rooms/"+r.ID+"/messages/m3/redact", r.admin.Token, nil, http.StatusOK)
		var p messagePage
		ts.call("GET", "/v1/rooms/"+r.ID+"/messages?limit=5", r.member.Token, nil, http.StatusOK).decode(t, &p)
		m := p.Messages[3]
		if m.ID != "m3" || !m.Deleted || m.Text != "" || m.DeletedBy != r.admin.UID {
			t.Errorf("redacted message = %+v, want an m3 tombstone by the admin", m)
		}
	})
	tests := []struct {
		name, query, token string
		want               int
	}{
		{"non-member", "", r.nonMember.Token, 404},
		{"bad limit", "?limit=abc", r.member.Token, 400},
		{"limit too big", "?limit=1000", r.member.Token, 400},
		{"unknown cursor", "?before=nosuch", r.member.Token, 400},
		{"bad cursor", "?before=a%2Fb", r.member.Token, 400},
		{"default limit", "", r.member.Token, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := ts.do(req{method: "GET", path: "/v1/rooms/" + r.ID + "/messages" + tt.query, token: tt.token}); resp.Code != tt.want {
				t.Errorf("GET messages%s = %s, want %d", tt.query, resp, tt.want)
			}
		})
	}
}

// messagePages GETs path (a messages URL with a query, without before) as token and
// each next page its nextCursor names, and returns the pages; a list that has not
// ended after maxPages pages fails the test.
func (ts *testServer) messagePages(path, token string, maxPages int) []messagePage {
	ts.t.Helper()
	var pages []messagePage
	cursor := ""
	for range maxPages {
		u := path
		if cursor != "" {
			u += "&before=" + cursor
		}
		var p messagePage
		ts.call("GET", u, token, nil, http.StatusOK).decode(ts.t, &p)
		if pages = append(pages, p); p.NextCursor == "" {
			return pages
		}
		cursor = p.NextCursor
	}
	ts.t.Fatalf("GET %s: still a nextCursor after %d pages", path, maxPages)
	return nil
}
