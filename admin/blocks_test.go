package admin

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestBlocksAPI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice, bob, carol := ts.newUser("Alice"), ts.newUser("Bob"), ts.newUser("Carol")

	var b apiBlock
	ts.call("PUT", "/v1/me/blocks/"+bob.UID, alice.Token, nil, http.StatusCreated).decode(t, &b)
	if b.UserID != bob.UID || b.CreatedAt.IsZero() {
		t.Errorf("block = %+v, want bob with createdAt", b)
	}
	first := b.CreatedAt
	ts.clock.Advance(time.Minute)
	ts.call("PUT", "/v1/me/blocks/"+bob.UID, alice.Token, nil, http.StatusOK).decode(t, &b)
	if !b.CreatedAt.Equal(first) {
		t.Errorf("blocking again: createdAt = %v, want the first block's %v", b.CreatedAt, first)
	}
	ts.clock.Advance(time.Minute)
	ts.call("PUT", "/v1/me/blocks/"+carol.UID, alice.Token, nil, http.StatusCreated)
	// The document is the one the rules and the other parts read.
	if snap, err := ts.env.Firestore().Doc(model.BlockPath(alice.UID, bob.UID)).Get(t.Context()); err != nil || !snap.Exists() {
		t.Fatalf("block document: %v", err)
	}

	var p blockPage
	ts.call("GET", "/v1/me/blocks", alice.Token, nil, http.StatusOK).decode(t, &p)
	var got []string
	for _, b := range p.Blocks {
		got = append(got, b.UserID)
	}
	if want := []string{carol.UID, bob.UID}; !slices.Equal(got, want) {
		t.Errorf("blocks = %v, want %v (newest first)", got, want)
	}
	ts.call("GET", "/v1/me/blocks?limit=1", alice.Token, nil, http.StatusOK).decode(t, &p)
	if len(p.Blocks) != 1 || p.NextPageToken == "" {
		t.Fatalf("page of 1 = %+v, want 1 and a token", p)
	}
	token := p.NextPageToken
	p = blockPage{}
	ts.call("GET", "/v1/me/blocks?limit=1&pageToken="+token, alice.Token, nil, http.StatusOK).decode(t, &p)
	if len(p.Blocks) != 1 || p.Blocks[0].UserID != bob.UID || p.NextPageToken != "" {
		t.Errorf("page 2 = %+v, want bob, last", p)
	}
	// Private: bob's list is his own, empty.
	p = blockPage{}
	ts.call("GET", "/v1/me/blocks", bob.Token, nil, http.StatusOK).decode(t, &p)
	if len(p.Blocks) != 0 {
		t.Errorf("bob's blocks = %+v, want none", p.Blocks)
	}

	for _, c := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"block self", "PUT", "/v1/me/blocks/" + alice.UID, alice.Token, http.StatusConflict},
		{"block a bad uid", "PUT", "/v1/me/blocks/" + strings.Repeat("x", 129), alice.Token, http.StatusBadRequest},
		{"bad page token", "GET", "/v1/me/blocks?pageToken=a.b", alice.Token, http.StatusBadRequest},
		{"no token", "GET", "/v1/me/blocks", "", http.StatusUnauthorized},
	} {
		if res := ts.do(req{method: c.method, path: c.path, token: c.token}); res.Code != c.want {
			t.Errorf("%s: %s %s = %s, want %d", c.name, c.method, c.path, res, c.want)
		}
	}

	ts.call("DELETE", "/v1/me/blocks/"+bob.UID, alice.Token, nil, http.StatusNoContent)
	ts.call("DELETE", "/v1/me/blocks/"+bob.UID, alice.Token, nil, http.StatusNoContent) // idempotent
	if snap, _ := ts.env.Firestore().Doc(model.BlockPath(alice.UID, bob.UID)).Get(t.Context()); snap.Exists() {
		t.Errorf("block still there after DELETE")
	}
}

// TestDirectRoomRefusedWhenBlocked: the blocked user cannot open (or reopen)
// the direct room with the blocker; the answer says nothing of a block. The
// blocker still can, and lifting the block lets the other in again.
func TestDirectRoomRefusedWhenBlocked(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice, bob, carol := ts.newUser("Alice"), ts.newUser("Bob"), ts.newUser("Carol")
	direct := func(u, other user) response {
		return ts.do(req{method: "POST", path: "/v1/rooms/direct", token: u.Token, body: map[string]string{"userId": other.UID}})
	}
	ts.call("PUT", "/v1/me/blocks/"+bob.UID, alice.Token, nil, http.StatusCreated)
	res := direct(bob, alice)
	if res.Code != http.StatusForbidden || res.errorBody().Reason != "" || strings.Contains(strings.ToLower(string(res.Body)), "block") {
		t.Errorf("blocked user opens the direct room = %s, want 403 without a reason or a word of blocking", res)
	}
	// Refused the same way as a user who never had a room would be: the room was not created.
	if snap, _ := ts.env.Firestore().Doc(model.RoomPath(model.DirectRoomID(alice.UID, bob.UID))).Get(t.Context()); snap.Exists() {
		t.Errorf("direct room created for a blocked user")
	}
	if res := direct(bob, carol); res.Code != http.StatusCreated {
		t.Errorf("blocked user opens a room with someone else = %s, want 201", res)
	}
	// The blocker may open it; the blocked user still may not (the room exists now).
	if res := direct(alice, bob); res.Code != http.StatusCreated {
		t.Errorf("blocker opens the direct room = %s, want 201", res)
	}
	if res := direct(bob, alice); res.Code != http.StatusForbidden {
		t.Errorf("blocked user opens the existing direct room = %s, want 403", res)
	}
	ts.call("DELETE", "/v1/me/blocks/"+bob.UID, alice.Token, nil, http.StatusNoContent)
	if res := direct(bob, alice); res.Code != http.StatusOK {
		t.Errorf("after the block is lifted = %s, want 200", res)
	}
}
