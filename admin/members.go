package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
)

// apiMember is the JSON of a member doc.
type apiMember struct {
	UID           string     `json:"uid"`
	Role          model.Role `json:"role"`
	DisplayName   string     `json:"displayName"`
	JoinedAt      time.Time  `json:"joinedAt,omitzero"`
	Online        bool       `json:"online"`
	LastSeen      time.Time  `json:"lastSeen,omitzero"`
	ReadAt        time.Time  `json:"readAt,omitzero"`
	ReadMessageID string     `json:"readMessageId,omitempty"`
	Banned        bool       `json:"banned"`
	BannedAt      time.Time  `json:"bannedAt,omitzero"`
	BannedBy      string     `json:"bannedBy,omitempty"`
	// BannedByRank is the rank that set the ban (model.Member.BanRank): only
	// that rank or a higher one lifts it.
	BannedByRank model.Rank `json:"bannedByRank,omitempty"`
}

func toAPIMember(uid string, m model.Member) apiMember {
	return apiMember{
		UID: uid, Role: m.Role, DisplayName: m.DisplayName, JoinedAt: m.JoinedAt, Online: m.Online,
		LastSeen: m.LastSeen, ReadAt: m.ReadAt, ReadMessageID: m.ReadMessageID,
		Banned: m.Banned, BannedAt: m.BannedAt, BannedBy: m.BannedBy,
		BannedByRank: banRank(m),
	}
}

// banRank is the rank of a banned member's ban, "" when not banned.
func banRank(m model.Member) model.Rank {
	if !m.Banned {
		return ""
	}
	return m.BanRank()
}

// rank orders roles: owner > admin > member.
func rank(r model.Role) int {
	switch r {
	case model.RoleOwner:
		return 3
	case model.RoleAdmin:
		return 2
	case model.RoleMember:
		return 1
	}
	return 0
}

// outranks reports whether a moderator of role a may act on a member of
// role b: owners act on anyone, admins on plain members only.
func outranks(a, b model.Role) bool {
	return a.CanModerate() && (a == model.RoleOwner || rank(a) > rank(b))
}

// addMembersRequest is the body of POST /v1/rooms/{roomId}/members.
type addMembersRequest struct {
	UserIDs []string `json:"userIds"`
}

// addMembersResponse lists the members the call added; uids that already
// were members are skipped, so a retried call is harmless.
type addMembersResponse struct {
	RoomID      string      `json:"roomId"`
	Added       []apiMember `json:"added"`
	MemberCount int         `json:"memberCount"`
}

// addMembers is POST /v1/rooms/{roomId}/members {userIds}: owners and
// admins of a group add existing users. Banned users are refused (409
// USER_BANNED) until an admin unbans them.
func (s *Server) addMembers(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	roomID, err := pathRoomID(c)
	if err != nil {
		fail(c, err)
		return
	}
	var req addMembersRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	ids, issues := validateUIDList("userIds", req.UserIDs, model.MaxMembers, "")
	if len(req.UserIDs) == 0 {
		issues = append(issues, FieldIssue{Field: "userIds", Reason: "required"})
	}
	if len(issues) > 0 {
		fail(c, fieldsError("invalid request", issues...))
		return
	}
	users, missing, err := s.lookupUsers(ctx, ids)
	if err != nil {
		fail(c, err)
		return
	}
	if err := missingUsersError("userIds", req.UserIDs, missing, ""); err != nil {
		fail(c, err)
		return
	}
	now := s.now().UTC()
	var out addMembersResponse
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out = addMembersResponse{RoomID: roomID, Added: []apiMember{}}
		v, err := s.memberRoom(ctx, tx, roomID, p.UID)
		if err != nil {
			return err
		}
		if err := v.groupChange(); err != nil {
			return err
		}
		if !v.role().CanModerate() {
			return errDenied(ReasonRoleInsufficient, "only the room's owners and admins add members")
		}
		var fresh []string
		for _, uid := range ids {
			if !slices.Contains(v.room.MemberIDs, uid) {
				fresh = append(fresh, uid)
			}
		}
		if len(fresh) > 0 {
			refs := make([]*firestore.DocumentRef, len(fresh))
			for i, uid := range fresh {
				refs[i] = s.fs.Doc(model.MemberPath(roomID, uid))
			}
			snaps, err := tx.GetAll(refs)
			if err != nil {
				return err
			}
			var banned []FieldIssue
			for i, snap := range snaps {
				var m model.Member
				if snap.Exists() && snap.DataTo(&m) == nil && m.Banned {
					idx := slices.Index(req.UserIDs, fresh[i])
					banned = append(banned, FieldIssue{Field: fmt.Sprintf("userIds[%d]", idx), Reason: "banned from this room"})
				}
			}
			if len(banned) > 0 {
				e := errPrecondition(ReasonUserBanned, "some users are banned from this room")
				e.fields = banned
				return e
			}
		}
		out.MemberCount = len(v.room.MemberIDs) + len(fresh)
		if out.MemberCount > model.MaxMembers {
			return errPrecondition(ReasonRoomFull, "a group has at most %d members", model.MaxMembers)
		}
		if len(fresh) == 0 {
			return nil
		}
		names := make([]string, len(fresh))
		for i, uid := range fresh {
			m := model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: users[uid].DisplayName}
			if err := tx.Set(s.fs.Doc(model.MemberPath(roomID, uid)), m); err != nil {
				return err
			}
			out.Added = append(out.Added, toAPIMember(uid, m))
			names[i] = m.DisplayName
		}
		memberIDs := append(slices.Clone(v.room.MemberIDs), fresh...)
		if err := tx.Update(v.ref, []firestore.Update{
			{Path: "memberIds", Value: memberIDs}, {Path: "memberCount", Value: len(memberIDs)},
		}); err != nil {
			return err
		}
		text := displayName(v.member.DisplayName) + " added " + joinNames(names)
		return tx.Create(s.newSystemMessageRef(roomID), systemMessage(p.UID, text))
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// groupChange refuses membership changes in direct and archived rooms.
func (v *roomView) groupChange() error {
	if v.room.Type != model.RoomGroup {
		return errPrecondition(ReasonDirectRoomFixed, "the members of a direct room cannot change")
	}
	return v.writable()
}

// roleRequest is the body of PATCH /v1/rooms/{roomId}/members/{uid}.
type roleRequest struct {
	Role model.Role `json:"role"`
}

// setMemberRole is PATCH /v1/rooms/{roomId}/members/{uid} {role}: owners
// change roles (admins and owners are theirs to manage). The last owner
// cannot step down.
func (s *Server) setMemberRole(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	roomID, target, err := pathInRoom(c, "uid")
	if err != nil {
		fail(c, err)
		return
	}
	var req roleRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if !req.Role.Valid() {
		fail(c, fieldsError("invalid request", FieldIssue{Field: "role", Reason: fmt.Sprintf("must be one of %q", model.Roles())}))
		return
	}
	var out apiMember
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.memberRoom(ctx, tx, roomID, p.UID)
		if err != nil {
			return err
		}
		if err := v.groupChange(); err != nil {
			return err
		}
		if v.role() != model.RoleOwner {
			return errDenied(ReasonRoleInsufficient, "only the room's owners change roles")
		}
		ref, m, err := s.rosterMember(tx, v, target)
		if err != nil {
			return err
		}
		out = toAPIMember(target, m)
		if m.Role == req.Role {
			return nil
		}
		if m.Role == model.RoleOwner {
			if err := s.keepAnOwner(tx, roomID, target); err != nil {
				return err
			}
		}
		out.Role = req.Role
		if err := tx.Set(ref, map[string]any{"role": req.Role}, firestore.MergeAll); err != nil {
			return err
		}
		text := fmt.Sprintf("%s made %s %s", displayName(v.member.DisplayName), displayName(m.DisplayName), roleNoun(req.Role))
		return tx.Create(s.newSystemMessageRef(roomID), systemMessage(p.UID, text))
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func roleNoun(r model.Role) string {
	switch r {
	case model.RoleOwner:
		return "an owner"
	case model.RoleAdmin:
		return "an admin"
	}
	return "a member"
}

// keepAnOwner fails with 409 LAST_OWNER when uid is the room's only owner.
// It reads in tx, so call it before any write.
func (s *Server) keepAnOwner(tx *firestore.Transaction, roomID, uid string) error {
	owners, err := tx.Documents(s.fs.Collection(model.MembersCollectionPath(roomID)).
		Where("role", "==", string(model.RoleOwner)).Limit(2)).GetAll()
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o.Ref.ID != uid {
			return nil
		}
	}
	return errPrecondition(ReasonLastOwner, "the room needs another owner first")
}

// removeMember is DELETE /v1/rooms/{roomId}/members/{uid}: a member leaves
// (uid = the caller), or an owner or admin removes someone they outrank.
// The last owner may leave only as the last member. A group whose last
// member leaves is archived.
func (s *Server) removeMember(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	roomID, target, err := pathInRoom(c, "uid")
	if err != nil {
		fail(c, err)
		return
	}
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.memberRoom(ctx, tx, roomID, p.UID)
		if err != nil {
			return err
		}
		if v.room.Type != model.RoomGroup {
			return errPrecondition(ReasonDirectRoomFixed, "the members of a direct room cannot change")
		}
		leaving := target == p.UID
		var m model.Member
		if leaving {
			m = v.member
			if m.Role == model.RoleOwner && len(v.room.MemberIDs) > 1 {
				if err := s.keepAnOwner(tx, roomID, p.UID); err != nil {
					return err
				}
			}
		} else {
			if err := v.writable(); err != nil {
				return err
			}
			if !v.role().CanModerate() {
				return errDenied(ReasonRoleInsufficient, "only the room's owners and admins remove members")
			}
			if _, m, err = s.rosterMember(tx, v, target); err != nil {
				return err
			}
			if !outranks(v.role(), m.Role) {
				return errDenied(ReasonRoleInsufficient, "admins remove members, not other admins or owners")
			}
		}
		rest := slices.DeleteFunc(slices.Clone(v.room.MemberIDs), func(id string) bool { return id == target })
		if err := tx.Delete(s.fs.Doc(model.MemberPath(roomID, target))); err != nil {
			return err
		}
		updates := []firestore.Update{{Path: "memberIds", Value: rest}, {Path: "memberCount", Value: len(rest)}}
		if len(rest) == 0 {
			updates = append(updates, firestore.Update{Path: "archived", Value: true})
		}
		if err := tx.Update(v.ref, updates); err != nil {
			return err
		}
		text := displayName(m.DisplayName) + " left"
		if !leaving {
			text = displayName(v.member.DisplayName) + " removed " + displayName(m.DisplayName)
		}
		return tx.Create(s.newSystemMessageRef(roomID), systemMessage(p.UID, text))
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
