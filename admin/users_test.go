package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestAdminUsers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	root := ts.newAdmin("Root")
	alice := ts.newUser("Alice")
	base := "/admin/v1/users/"

	t.Run("get", func(t *testing.T) {
		ts.call("PUT", "/v1/devices/d1", alice.Token, map[string]string{"token": "tok-" + ts.env.ProjectID, "platform": "web"}, 200)
		var d userDetail
		ts.call("GET", base+alice.UID, root.Token, nil, 200).decode(t, &d)
		if d.User.UID != alice.UID || d.User.Email != alice.Email || d.Profile == nil || d.Profile.DisplayName != "Alice" ||
			d.DeviceCount != 1 || d.User.Admin || d.User.CreatedAt.IsZero() || !slices.Contains(d.User.Providers, "password") {
			t.Errorf("GET user = %+v (profile %+v)", d, d.Profile)
		}
		ts.call("GET", base+"nosuchuser123", root.Token, nil, 404)
		ts.call("GET", base+"bad.id", root.Token, nil, 400)
	})
	t.Run("list", func(t *testing.T) {
		var p struct {
			Users         []apiUser
			NextPageToken string
		}
		ts.call("GET", "/admin/v1/users?limit=1", root.Token, nil, 200).decode(t, &p)
		if len(p.Users) != 1 || p.NextPageToken == "" {
			t.Errorf("list limit 1 = %d users, token %q; want 1 and a token", len(p.Users), p.NextPageToken)
		}
		var p2 struct{ Users []apiUser }
		ts.call("GET", "/admin/v1/users?limit=1&pageToken="+p.NextPageToken, root.Token, nil, 200).decode(t, &p2)
		if len(p2.Users) != 1 || p2.Users[0].UID == p.Users[0].UID {
			t.Errorf("page 2 = %+v, want another user", p2.Users)
		}
		// A wrapped SDK error still maps to its status.
		_, err := ts.env.Auth().GetUser(t.Context(), "nosuchuser123")
		if got := toAPIError(fmt.Errorf("get: %w", err)); got.status != 404 || got.code != CodeNotFound {
			t.Errorf("toAPIError(wrapped user-not-found) = %d %s, want 404", got.status, got.code)
		}
		var byEmail struct{ Users []apiUser }
		ts.call("GET", "/admin/v1/users?email="+url.QueryEscape(alice.Email), root.Token, nil, 200).decode(t, &byEmail)
		if len(byEmail.Users) != 1 || byEmail.Users[0].UID != alice.UID {
			t.Errorf("by email = %+v, want alice", byEmail.Users)
		}
		ts.call("GET", "/admin/v1/users?email="+url.QueryEscape("nobody-"+ts.env.ProjectID+"@example.com"), root.Token, nil, 200).decode(t, &byEmail)
		if len(byEmail.Users) != 0 {
			t.Errorf("unknown email = %+v, want none", byEmail.Users)
		}
	})
	t.Run("disable and enable", func(t *testing.T) {
		var u apiUser
		ts.call("POST", base+alice.UID+"/disable", root.Token, map[string]string{"reason": "abuse"}, 200).decode(t, &u)
		if !u.Disabled {
			t.Errorf("disable = %+v", u)
		}
		// The revocation marker ends the disabled user's sessions at once,
		// reads and writes alike (TOKEN_REVOKED; USER_DISABLED when the
		// token was not cached: the emulator's VerifyIDToken looks the user
		// up).
		for _, m := range []string{"GET", "DELETE"} {
			path := map[string]string{"GET": "/v1/me", "DELETE": "/v1/devices/d9"}[m]
			resp := ts.do(req{method: m, path: path, token: alice.Token})
			if reason := resp.errorBody().Reason; resp.Code != 401 || (reason != ReasonTokenRevoked && reason != ReasonUserDisabled) {
				t.Errorf("disabled user's %s %s = %s, want 401 %s or %s", m, path, resp, ReasonTokenRevoked, ReasonUserDisabled)
			}
		}
		ts.call("POST", base+alice.UID+"/enable", root.Token, nil, 200).decode(t, &u)
		if u.Disabled {
			t.Errorf("enable = %+v", u)
		}
		// Enabling does not bring the ended sessions back: the user signs in again.
		if resp := ts.do(req{method: "DELETE", path: "/v1/devices/d9", token: alice.Token}); resp.Code != 401 {
			t.Errorf("old token after enable = %s, want 401", resp)
		}
		alice = ts.signIn(alice)
		ts.call("DELETE", "/v1/devices/d9", alice.Token, nil, 204)
		if resp := ts.do(req{method: "POST", path: base + root.UID + "/disable", token: root.Token}); resp.Code != 409 || resp.errorBody().Reason != ReasonSelfAction {
			t.Errorf("disable self = %s, want 409 SELF_ACTION", resp)
		}
		ts.call("POST", base+"nosuchuser123/disable", root.Token, nil, 404)
	})
	t.Run("claims", func(t *testing.T) {
		var u apiUser
		ts.call("PUT", base+alice.UID+"/claims", root.Token, map[string]any{"claims": map[string]any{"admin": true, "tier": "gold"}}, 200).decode(t, &u)
		if !u.Admin || u.CustomClaims["tier"] != "gold" {
			t.Errorf("claims = %+v", u)
		}
		bad := []struct {
			name string
			body any
		}{
			{"missing", map[string]any{}},
			{"reserved", map[string]any{"claims": map[string]any{"sub": "x"}}},
			{"too large", map[string]any{"claims": map[string]any{"x": strings.Repeat("y", MaxClaimsBytes)}}},
			{"not an object", map[string]any{"claims": []int{1}}},
		}
		for _, b := range bad {
			if resp := ts.do(req{method: "PUT", path: base + alice.UID + "/claims", token: root.Token, body: b.body}); resp.Code != 400 {
				t.Errorf("%s: PUT claims = %s, want 400", b.name, resp)
			}
		}
		// Claims are replaced, not merged; {} clears them.
		var replaced, cleared apiUser
		ts.call("PUT", base+alice.UID+"/claims", root.Token, map[string]any{"claims": map[string]any{"tier": "silver"}}, 200).decode(t, &replaced)
		if replaced.Admin || len(replaced.CustomClaims) != 1 || replaced.CustomClaims["tier"] != "silver" {
			t.Errorf("replaced claims = %+v, want only tier silver", replaced.CustomClaims)
		}
		ts.call("PUT", base+alice.UID+"/claims", root.Token, map[string]any{"claims": map[string]any{}}, 200).decode(t, &cleared)
		if len(cleared.CustomClaims) != 0 {
			t.Errorf("cleared claims = %+v, want none", cleared.CustomClaims)
		}
	})
	t.Run("revoke tokens", func(t *testing.T) {
		old := emulatorToken(ts.env.AuthProjectID, alice.UID, ts.clock.Now().Add(-10*time.Minute), ts.clock.Now().Add(10*time.Minute), nil)
		// An iat before the account's creation counts as revoked in the emulator.
		if resp := ts.do(req{method: "GET", path: "/v1/me", token: old}); resp.Code != 401 || resp.errorBody().Reason != ReasonTokenRevoked {
			t.Errorf("old token = %s, want 401 TOKEN_REVOKED", resp)
		}
		var u apiUser
		ts.call("POST", base+alice.UID+"/revoke-tokens", root.Token, nil, 200).decode(t, &u)
		if u.TokensValidAfter.IsZero() {
			t.Errorf("revoke = %+v, want tokensValidAfter", u)
		}
	})
	got := ts.auditActions()
	slices.Sort(got)
	want := []string{ActionUserDisable, ActionUserEnable, ActionUserRevokeTokens, ActionUserClaims, ActionUserClaims, ActionUserClaims}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestEraseUser(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	root := ts.newAdmin("Root")
	r := ts.newRoom()
	gone := r.member
	// A direct room, a message in each room, devices, inbox, presence, a
	// digest, a ban elsewhere.
	var dm apiRoom
	ts.call("POST", "/v1/rooms/direct", gone.Token, map[string]string{"userId": r.owner.UID}, 201).decode(t, &dm)
	ts.addMessage(r.ID, "g1", gone.UID, "hello team", ts.clock.Now())
	ts.addMessage(dm.ID, "d1", gone.UID, "hello you", ts.clock.Now())
	ts.addMessage(r.ID, "o1", r.owner.UID, "hi", ts.clock.Now())
	if _, err := db.Doc("rooms/"+r.ID).Update(ctx, []firestore.Update{{Path: "lastMessage", Value: map[string]any{"id": "g1", "senderId": gone.UID, "senderName": "Mia", "type": "text", "preview": "hello team", "sentAt": ts.clock.Now()}}}); err != nil {
		t.Fatal(err)
	}
	ts.call("PUT", "/v1/devices/p1", gone.Token, map[string]string{"token": "tok-" + ts.env.ProjectID, "platform": "android"}, 200)
	for _, p := range []string{model.InboxEntryPath(gone.UID, r.ID), model.MembershipPath(gone.UID, r.ID), model.CountersPath(gone.UID),
		model.PresencePath(gone.UID), model.PushQueuePath(gone.UID, r.ID), model.PushQueuePath(r.owner.UID, r.ID)} {
		if _, err := db.Doc(p).Set(ctx, map[string]any{"x": 1}); err != nil {
			t.Fatal(err)
		}
	}
	var other apiRoom
	ts.call("POST", "/v1/rooms", r.owner.Token, map[string]any{"title": "Other", "memberIds": []string{gone.UID}}, 201).decode(t, &other)
	ts.call("POST", "/v1/rooms/"+other.ID+"/members/"+gone.UID+"/ban", r.owner.Token, nil, 200)

	var res eraseResult
	ts.call("DELETE", "/admin/v1/users/"+gone.UID, root.Token, map[string]string{"reason": "GDPR request"}, 200).decode(t, &res)
	// g1, d1 and the system message of the direct room the user started.
	if !res.AuthUserDeleted || res.RoomsLeft != 2 || res.MessagesAnonymised != 3 {
		t.Errorf("erase = %+v, want auth user deleted, 2 rooms left, 3 messages anonymised", res)
	}
	if _, err := ts.env.Auth().GetUser(ctx, gone.UID); err == nil {
		t.Error("auth user still exists")
	}
	for _, p := range []string{model.UserPath(gone.UID), model.DevicePath(gone.UID, "p1"), model.InboxEntryPath(gone.UID, r.ID),
		model.MembershipPath(gone.UID, r.ID), model.CountersPath(gone.UID), model.PresencePath(gone.UID),
		model.PushQueuePath(gone.UID, r.ID), model.MemberPath(r.ID, gone.UID), model.MemberPath(dm.ID, gone.UID),
		model.MemberPath(other.ID, gone.UID)} {
		if _, err := db.Doc(p).Get(ctx); !firestoreerr.IsNotFound(err) {
			t.Errorf("after erase, Get(%s) = %v, want NotFound", p, err)
		}
	}
	if _, err := db.Doc(model.PushQueuePath(r.owner.UID, r.ID)).Get(ctx); err != nil {
		t.Errorf("another user's digest was deleted: %v", err)
	}
	for _, p := range []string{"rooms/" + r.ID + "/messages/g1", "rooms/" + dm.ID + "/messages/d1"} {
		s, err := db.Doc(p).Get(ctx)
		if err != nil {
			t.Fatalf("message %s gone: %v (want kept)", p, err)
		}
		var m model.Message
		s.DataTo(&m)
		if !strings.HasPrefix(m.SenderID, ErasedSenderPrefix) || m.Text == "" {
			t.Errorf("message %s = %+v, want kept with an anonymous sender", p, m)
		}
		if err := model.ValidateID("senderId", m.SenderID); err != nil {
			t.Errorf("pseudonym %q: %v", m.SenderID, err)
		}
	}
	var room, direct model.Room
	s, _ := db.Doc("rooms/" + r.ID).Get(ctx)
	s.DataTo(&room)
	s, _ = db.Doc("rooms/" + dm.ID).Get(ctx)
	s.DataTo(&direct)
	if slices.Contains(room.MemberIDs, gone.UID) || room.MemberCount != 2 || room.Archived ||
		room.LastMessage.SenderName != ErasedSenderName || !strings.HasPrefix(room.LastMessage.SenderID, ErasedSenderPrefix) {
		t.Errorf("group after erase = %+v (last %+v)", room, room.LastMessage)
	}
	if slices.Contains(direct.MemberIDs, gone.UID) || !direct.Archived {
		t.Errorf("direct room after erase = %+v, want archived without the user", direct)
	}
	// Retry: nothing left, still 200.
	ts.call("DELETE", "/admin/v1/users/"+gone.UID, root.Token, nil, 200).decode(t, &res)
	if res.AuthUserDeleted || res.RoomsLeft != 0 || res.MessagesAnonymised != 0 {
		t.Errorf("second erase = %+v, want nothing to do", res)
	}
	if resp := ts.do(req{method: "DELETE", path: "/admin/v1/users/" + root.UID, token: root.Token}); resp.Code != 409 {
		t.Errorf("erase self = %s, want 409", resp)
	}
	got := ts.auditActions()
	slices.Sort(got)
	if want := []string{ActionMemberBan, ActionUserErase, ActionUserErase}; !slices.Equal(got, want) {
		t.Errorf("audit = %v, want a ban and two erasures", got)
	}
}

func TestSetAdminClaim(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	u := ts.newUser("Grace")
	if err := ts.env.Auth().SetCustomUserClaims(ctx, u.UID, map[string]any{"tier": "gold"}); err != nil {
		t.Fatal(err)
	}
	rec, err := SetAdminClaim(ctx, ts.env.Auth(), ts.env.Firestore(), ts.srv.revocations, u.Email, true, ts.clock.Now())
	if err != nil {
		t.Fatalf("SetAdminClaim(grant) = %v", err)
	}
	if rec.CustomClaims["admin"] != true || rec.CustomClaims["tier"] != "gold" {
		t.Errorf("claims after grant = %v, want admin and the old tier", rec.CustomClaims)
	}
	// The change ended the user's sessions: the old token, and one
	// refreshed from the old session (the emulator still honours revoked
	// refresh tokens; production does not), are refused.
	if r := ts.do(req{method: "GET", path: "/v1/me", token: u.Token}); r.Code != 401 || r.errorBody().Reason != ReasonTokenRevoked {
		t.Errorf("old token after grant-admin = %s, want 401 %s", r, ReasonTokenRevoked)
	}
	refreshed := ts.env.Refresh(emutest.User{UID: u.UID, RefreshToken: u.Refresh})
	if r := ts.do(req{method: "GET", path: "/v1/me", token: refreshed.IDToken}); r.Code != 401 || r.errorBody().Reason != ReasonTokenRevoked {
		t.Errorf("token refreshed from the old session = %s, want 401 %s", r, ReasonTokenRevoked)
	}
	// Signed in again, the admin routes open.
	fresh := ts.signIn(u)
	ts.call("GET", "/admin/v1/stats", fresh.Token, nil, 200)
	rec, err = SetAdminClaim(ctx, ts.env.Auth(), nil, nil, u.Email, false, ts.clock.Now())
	if err != nil || rec.CustomClaims["admin"] != nil || rec.CustomClaims["tier"] != "gold" {
		t.Errorf("SetAdminClaim(revoke) = %v, %v; want tier only", rec.CustomClaims, err)
	}
	if _, err := SetAdminClaim(ctx, ts.env.Auth(), nil, nil, "nobody-"+ts.env.ProjectID+"@example.com", true, ts.clock.Now()); err == nil {
		t.Error("SetAdminClaim(unknown email) = nil error")
	}
	if got := ts.auditActions(); !slices.Equal(got, []string{ActionUserGrantAdmin}) {
		t.Errorf("audit = %v, want [%s]", got, ActionUserGrantAdmin)
	}
	// Without a marker (no Firestore), the live account still closes the
	// admin routes at once: by the claim (403), or by the refresh-token
	// revocation when it fell in a later second than the token (401).
	if r := ts.do(req{method: "GET", path: "/admin/v1/audit", token: fresh.Token}); !(r.Code == 403 && r.errorBody().Reason == ReasonAdminRequired) &&
		!(r.Code == 401 && r.errorBody().Reason == ReasonTokenRevoked) {
		t.Errorf("admin route after revoke-admin = %s, want 403 %s or 401 %s", r, ReasonAdminRequired, ReasonTokenRevoked)
	}
}
