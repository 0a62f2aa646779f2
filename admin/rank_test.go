package admin

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// rankActor is one rank of moderator and the door it moderates through.
type rankActor struct {
	rank   model.Rank
	prefix string
	token  string
}

// rankActors are the three moderating ranks of r, lowest first: the room's
// admin (a moderator), its owner, and an app admin through /admin/v1.
func rankActors(r room, appAdmin user) []rankActor {
	return []rankActor{
		{model.RankModerator, "/v1", r.admin.Token},
		{model.RankOwner, "/v1", r.owner.Token},
		{model.RankAppAdmin, "/admin/v1", appAdmin.Token},
	}
}

// TestUnbanRespectsRank tries every pair of (who lifts, who set the ban):
// a ban can be lifted by its setter's rank or a higher one, never a lower
// one (403 INSUFFICIENT_RANK, and the ban stays).
func TestUnbanRespectsRank(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	r := ts.newRoom()
	appAdmin := ts.newAdmin("Root")
	actors := rankActors(r, appAdmin)
	banPath := func(a rankActor) string { return a.prefix + "/rooms/" + r.ID + "/members/" + r.member.UID + "/ban" }
	readBan := func() model.Member {
		t.Helper()
		s, err := db.Doc(model.MemberPath(r.ID, r.member.UID)).Get(ctx)
		if err != nil {
			t.Fatalf("member doc: %v", err)
		}
		var m model.Member
		s.DataTo(&m)
		return m
	}
	for _, setter := range actors {
		for _, lifter := range actors {
			name := fmt.Sprintf("%s lifts a ban by %s", lifter.rank, setter.rank)
			var banned apiMember
			ts.call("POST", banPath(setter), setter.token, map[string]string{"reason": "spam"}, http.StatusOK).decode(t, &banned)
			if banned.BannedByRank != setter.rank {
				t.Errorf("%s: ban response bannedByRank = %q, want %q", name, banned.BannedByRank, setter.rank)
			}
			if m := readBan(); m.BannedByRank != setter.rank {
				t.Errorf("%s: stored bannedByRank = %q, want %q", name, m.BannedByRank, setter.rank)
			}
			resp := ts.do(req{method: "DELETE", path: banPath(lifter), token: lifter.token})
			if lifter.rank.AtLeast(setter.rank) {
				if resp.Code != http.StatusNoContent {
					t.Errorf("%s = %s, want 204", name, resp)
				}
			} else {
				if resp.Code != http.StatusForbidden || resp.errorBody().Code != CodePermissionDenied || resp.errorBody().Reason != ReasonInsufficientRank {
					t.Errorf("%s = %s, want 403 %s", name, resp, ReasonInsufficientRank)
				}
				if m := readBan(); !m.Banned {
					t.Errorf("%s: the ban is gone after a refused unban", name)
				}
				ts.call("DELETE", banPath(actors[2]), appAdmin.Token, nil, http.StatusNoContent)
			}
			ts.call("POST", "/v1/rooms/"+r.ID+"/members", r.owner.Token, map[string]any{"userIds": []string{r.member.UID}}, http.StatusOK)
		}
	}

	// A ban stored before bans recorded a rank counts as an app admin's.
	if _, err := db.Doc(model.MemberPath(r.ID, r.nonMember.UID)).Set(ctx, map[string]any{
		"role": "member", "joinedAt": time.Now(), "displayName": "Nora", "online": false,
		"banned": true, "bannedAt": time.Now(), "bannedBy": r.owner.UID,
	}); err != nil {
		t.Fatal(err)
	}
	legacy := "/rooms/" + r.ID + "/members/" + r.nonMember.UID + "/ban"
	if resp := ts.do(req{method: "DELETE", path: "/v1" + legacy, token: r.owner.Token}); resp.Code != http.StatusForbidden || resp.errorBody().Reason != ReasonInsufficientRank {
		t.Errorf("owner lifts a ban without a rank = %s, want 403 %s", resp, ReasonInsufficientRank)
	}
	ts.call("DELETE", "/admin/v1"+legacy, appAdmin.Token, nil, http.StatusNoContent)
}

// TestBanByHigherRankRaisesIt: banning an already banned member again with
// a higher rank records the higher rank, so the lower rank can no longer
// lift it; a lower rank's re-ban changes nothing.
func TestBanByHigherRankRaisesIt(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.newRoom()
	path := "/v1/rooms/" + r.ID + "/members/" + r.member.UID + "/ban"
	ts.call("POST", path, r.admin.Token, nil, http.StatusOK)
	var m apiMember
	ts.call("POST", path, r.owner.Token, nil, http.StatusOK).decode(t, &m)
	if m.BannedByRank != model.RankOwner || m.BannedBy != r.owner.UID {
		t.Errorf("re-ban by the owner = %+v, want bannedBy the owner at rank owner", m)
	}
	ts.call("POST", path, r.admin.Token, nil, http.StatusOK).decode(t, &m)
	if m.BannedByRank != model.RankOwner {
		t.Errorf("re-ban by a moderator = %+v, want the owner's rank kept", m)
	}
	if resp := ts.do(req{method: "DELETE", path: path, token: r.admin.Token}); resp.errorBody().Reason != ReasonInsufficientRank {
		t.Errorf("moderator lifts the raised ban = %s, want 403 %s", resp, ReasonInsufficientRank)
	}
}

// TestRedactRespectsRank tries every pair of (who redacts, whose message):
// moderators redact messages of their own rank and below, never a higher
// rank's (403 INSUFFICIENT_RANK, and the message stays).
func TestRedactRespectsRank(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	r := ts.newRoom()
	appAdmin := ts.newAdmin("Root")
	actors := rankActors(r, appAdmin)
	authors := []struct {
		rank model.Rank
		uid  string
	}{
		{model.RankMember, r.member.UID},
		// A former member (or anyone not in the room) writes as a member.
		{model.RankMember, r.nonMember.UID},
		{model.RankModerator, r.admin.UID},
		{model.RankOwner, r.owner.UID},
		// An app admin's message (written through the client, as any user's).
		{model.RankAppAdmin, appAdmin.UID},
	}
	at := time.Now()
	for _, actor := range actors {
		for i, author := range authors {
			id := fmt.Sprintf("m-%s-%d", actor.rank, i)
			ts.addMessage(r.ID, id, author.uid, "hello", at)
			name := fmt.Sprintf("%s redacts a message by %s (%s)", actor.rank, author.rank, author.uid)
			resp := ts.do(req{method: "POST", path: actor.prefix + "/rooms/" + r.ID + "/messages/" + id + "/redact", token: actor.token})
			s, err := db.Doc(model.MessagePath(r.ID, id)).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var m model.Message
			s.DataTo(&m)
			if actor.rank.AtLeast(author.rank) {
				if resp.Code != http.StatusOK || !m.Deleted() {
					t.Errorf("%s = %s (deleted %v), want 200 and a tombstone", name, resp, m.Deleted())
				}
				continue
			}
			if resp.Code != http.StatusForbidden || resp.errorBody().Code != CodePermissionDenied || resp.errorBody().Reason != ReasonInsufficientRank {
				t.Errorf("%s = %s, want 403 %s", name, resp, ReasonInsufficientRank)
			}
			if m.Deleted() || m.Text != "hello" {
				t.Errorf("%s: message = %+v after a refused redaction, want it untouched", name, m)
			}
		}
	}
}
