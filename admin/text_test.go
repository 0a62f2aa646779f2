package admin

import (
	"net/http"
	"testing"
)

// TestRoomTitleRefusesInvisible: a group title with a bidirectional
// override or another invisible character is 400 naming the title, and no
// room is created; the joiners and selectors that names need pass.
func TestRoomTitleRefusesInvisible(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	alice, bob := ts.newUser("Alice"), ts.newUser("Bob")
	for _, title := range []string{"Team\u202Egnp.exe", "\u2066Team\u2069", "Te\u200Bam", "Team\u200F", "Team\u2028", "\uFEFFTeam", "Team\U000E0041"} {
		resp := ts.do(req{method: "POST", path: "/v1/rooms", token: alice.Token, body: map[string]any{"title": title, "memberIds": []string{bob.UID}}})
		if f := resp.errorBody().Fields; resp.Code != http.StatusBadRequest || len(f) != 1 || f[0].Field != "title" {
			t.Errorf("POST /v1/rooms title %+q = %s, want 400 with the field title", title, resp)
		}
	}
	for _, title := range []string{"\U0001F469\u200D\U0001F4BB Devs", "\u2764\uFE0F Team"} {
		ts.call("POST", "/v1/rooms", alice.Token, map[string]any{"title": title, "memberIds": []string{bob.UID}}, http.StatusCreated)
	}
}
