package admin

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/hearth-chat/hearth/emulator/emutest"
)

// authLog is an Auth client that records every call it forwards to the Auth
// emulator: the method and, for user lookups, the uids.
type authLog struct {
	*auth.Client
	mu    sync.Mutex
	calls []string
}

func (a *authLog) note(call string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, call)
}

// take returns the calls since the last take.
func (a *authLog) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

func (a *authLog) VerifyIDToken(ctx context.Context, tok string) (*auth.Token, error) {
	a.note("VerifyIDToken")
	return a.Client.VerifyIDToken(ctx, tok)
}

func (a *authLog) VerifyIDTokenAndCheckRevoked(ctx context.Context, tok string) (*auth.Token, error) {
	a.note("VerifyIDTokenAndCheckRevoked")
	return a.Client.VerifyIDTokenAndCheckRevoked(ctx, tok)
}

func (a *authLog) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	a.note("GetUser " + uid)
	return a.Client.GetUser(ctx, uid)
}

func (a *authLog) GetUsers(ctx context.Context, ids []auth.UserIdentifier) (*auth.GetUsersResult, error) {
	a.note("GetUsers")
	return a.Client.GetUsers(ctx, ids)
}

// TestWriteRoutesNoAuthRoundTrip sends every non-GET /v1 route of the router,
// successfully, while the revocation markers are current, and records the
// calls that reach Firebase Auth: authentication makes none (no revocation
// lookup, no GetUser of the caller; the token was verified once and cached,
// and revocation is the in-memory marker check). The only Auth calls left are
// the routes' own business, listed here: the accounts a room is created with
// or given must exist (GetUsers), and a moderator may not redact an app
// admin's message (GetUser of the author). A new write route fails this test
// until it is listed.
func TestWriteRoutesNoAuthRoundTrip(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	log := &authLog{Client: env.Auth()}
	media := withMedia(t, env)
	ts := newTestServerEnv(t, env, func(c *Config, d *Deps) {
		media(c, d)
		d.Auth = log
	})
	r := ts.newRoom()
	other, joiner, banned := ts.newUser("Otto"), ts.newUser("Jo"), ts.newUser("Ben")
	ts.call("POST", "/v1/rooms/"+r.ID+"/members", r.owner.Token, map[string]any{"userIds": []string{banned.UID}}, http.StatusOK)
	ts.addMessage(r.ID, "m1", r.member.UID, "hello", time.Now())
	ts.addMessage(r.ID, "m2", r.member.UID, "reported", time.Now())
	room := "/v1/rooms/" + r.ID
	cases := map[string]struct {
		caller    user
		req       req
		want      int
		authCalls []string // besides authentication, which must make none
	}{
		"POST /v1/rooms": {r.member, req{method: "POST", path: "/v1/rooms", body: map[string]any{"title": "Mine"}},
			http.StatusCreated, []string{"GetUsers"}},
		"POST /v1/rooms/direct": {r.member, req{method: "POST", path: "/v1/rooms/direct", body: map[string]any{"userId": other.UID}},
			http.StatusCreated, []string{"GetUsers"}},
		"POST /v1/rooms/:roomId/members": {r.owner, req{method: "POST", path: room + "/members", body: map[string]any{"userIds": []string{joiner.UID}}},
			http.StatusOK, []string{"GetUsers"}},
		"PATCH /v1/rooms/:roomId/members/:uid": {r.owner, req{method: "PATCH", path: room + "/members/" + joiner.UID, body: map[string]any{"role": "admin"}},
			http.StatusOK, nil},
		"DELETE /v1/rooms/:roomId/members/:uid": {r.owner, req{method: "DELETE", path: room + "/members/" + joiner.UID},
			http.StatusNoContent, nil},
		"POST /v1/rooms/:roomId/members/:uid/ban": {r.owner, req{method: "POST", path: room + "/members/" + banned.UID + "/ban"},
			http.StatusOK, nil},
		"DELETE /v1/rooms/:roomId/members/:uid/ban": {r.owner, req{method: "DELETE", path: room + "/members/" + banned.UID + "/ban"},
			http.StatusNoContent, nil},
		"POST /v1/rooms/:roomId/messages/:messageId/redact": {r.owner, req{method: "POST", path: room + "/messages/m1/redact"},
			http.StatusOK, []string{"GetUser " + r.member.UID}},
		"POST /v1/rooms/:roomId/messages/:messageId/reports": {r.owner, req{method: "POST", path: room + "/messages/m2/reports", body: map[string]any{"reason": "spam"}},
			http.StatusCreated, nil},
		"PUT /v1/me/blocks/:uid": {r.member, req{method: "PUT", path: "/v1/me/blocks/" + other.UID},
			http.StatusCreated, nil},
		"DELETE /v1/me/blocks/:uid": {r.member, req{method: "DELETE", path: "/v1/me/blocks/" + joiner.UID},
			http.StatusNoContent, nil},
		"PUT /v1/devices/:deviceId": {r.member, req{method: "PUT", path: "/v1/devices/d1", body: map[string]any{"token": "tok-" + ts.env.ProjectID, "platform": "web"}},
			http.StatusOK, nil},
		"DELETE /v1/devices/:deviceId": {r.member, req{method: "DELETE", path: "/v1/devices/d1"},
			http.StatusNoContent, nil},
		"POST /v1/uploads": {r.member, req{method: "POST", path: "/v1/uploads", body: map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 1000}},
			http.StatusCreated, nil},
	}
	// Every caller's token verified once (and cached), as after an app's first request.
	for _, u := range []user{r.owner, r.member} {
		ts.call("GET", "/v1/me", u.Token, nil, http.StatusOK)
	}
	if !ts.srv.revocations.Fresh() {
		t.Fatal("the revocation markers are not current")
	}
	log.take()
	var routes []string
	for _, ri := range ts.srv.engine.Routes() {
		if ri.Method != http.MethodGet && strings.HasPrefix(ri.Path, "/v1/") {
			routes = append(routes, ri.Method+" "+ri.Path)
		}
	}
	slices.Sort(routes)
	if len(routes) == 0 {
		t.Fatal("no write route under /v1")
	}
	// In an order where each request succeeds: the joiner joins, gets a role, leaves.
	order := []string{
		"POST /v1/rooms", "POST /v1/rooms/direct", "POST /v1/rooms/:roomId/members",
		"PATCH /v1/rooms/:roomId/members/:uid", "DELETE /v1/rooms/:roomId/members/:uid",
		"POST /v1/rooms/:roomId/members/:uid/ban", "DELETE /v1/rooms/:roomId/members/:uid/ban",
		"POST /v1/rooms/:roomId/messages/:messageId/redact", "PUT /v1/devices/:deviceId",
		"DELETE /v1/devices/:deviceId", "POST /v1/uploads",
		"POST /v1/rooms/:roomId/messages/:messageId/reports", "PUT /v1/me/blocks/:uid", "DELETE /v1/me/blocks/:uid",
	}
	for _, rt := range routes {
		if !slices.Contains(order, rt) {
			t.Errorf("write route %s is not covered: add it to this test", rt)
		}
	}
	for _, rt := range order {
		if !slices.Contains(routes, rt) {
			t.Errorf("the test covers %s, which the router does not have", rt)
			continue
		}
		tc := cases[rt]
		rq := tc.req
		rq.token = tc.caller.Token
		if got := ts.do(rq); got.Code != tc.want {
			t.Errorf("%s = %s, want %d", rt, got, tc.want)
		}
		if got := log.take(); !slices.Equal(got, tc.authCalls) {
			t.Errorf("%s: Auth calls %q, want %q (authentication must make none)", rt, got, tc.authCalls)
		}
	}
}
