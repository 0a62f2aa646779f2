package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
)

// Moderation: banning members and redacting messages. Each action has two
// doors with one implementation: /v1 for the room's owners and admins
// (within their rank) and /admin/v1 for app admins (any room, any member).
// Both are audited.
//
// Ranks (model.Rank) decide who may undo whom: a ban records its setter's
// rank, and only that rank or a higher one lifts it; a message is redacted
// only by a rank at least its author's. The comparison is the model's
// (CanLiftBan, CanRedact); here the ranks are looked up.

// modScope says who is moderating.
type modScope int

const (
	// scopeRoom is a room owner or admin acting through /v1.
	scopeRoom modScope = iota
	// scopeApp is an app admin acting through /admin/v1.
	scopeApp
)

// rank is the moderator's rank: an app admin through /admin/v1, the room
// role's rank (model.RoleRank) through /v1 — an app admin who moderates
// through /v1 acts with their room role.
func (m modScope) rank(v *roomView) model.Rank {
	if m == scopeApp {
		return model.RankAppAdmin
	}
	return model.RoleRank(v.role())
}

func (m modScope) via() map[string]string {
	if m == scopeApp {
		return map[string]string{"via": "admin"}
	}
	return map[string]string{"via": "room"}
}

// modRequest reads a moderation action's room and target (the path
// parameter name: a member's uid, a message id) and its optional reason.
func modRequest(c *gin.Context, name string) (roomID, id, reason string, err error) {
	if roomID, id, err = pathInRoom(c, name); err != nil {
		return "", "", "", err
	}
	if reason, err = decodeReason(c); err != nil {
		return "", "", "", err
	}
	return roomID, id, reason, nil
}

// modRoom loads the room for a moderation action in tx: for scopeRoom the
// caller must be a member whose role can moderate; for scopeApp the room
// only has to exist. It returns the room view (member is the caller's for
// scopeRoom, zero for scopeApp).
func (s *Server) modRoom(ctx context.Context, tx *firestore.Transaction, scope modScope, roomID, caller string) (*roomView, error) {
	if scope == scopeRoom {
		v, err := s.memberRoom(ctx, tx, roomID, caller)
		if err != nil {
			return nil, err
		}
		if !v.role().CanModerate() {
			return nil, errDenied(ReasonRoleInsufficient, "only the room's owners and admins moderate")
		}
		return v, nil
	}
	ref := s.fs.Doc(model.RoomPath(roomID))
	room, err := getRoom(tx, ref)
	if err != nil {
		return nil, err
	}
	v := &roomView{ref: ref, room: room, uid: caller}
	v.member.Role = model.RoleOwner // an app admin outranks everyone
	return v, nil
}

// roomBanMember is POST /v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) roomBanMember(c *gin.Context) { s.banMember(c, scopeRoom) }

// adminBanMember is POST /admin/v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) adminBanMember(c *gin.Context) { s.banMember(c, scopeApp) }

// banMember bans a current member: the member doc stays with banned: true
// (so POST .../members refuses the uid until an unban), the uid leaves
// memberIds, and the user's private membership, inbox entry and typing doc
// are deleted. Banning a banned member again is a no-op, unless the caller
// outranks the ban's setter: then the ban becomes theirs (bannedBy,
// bannedByRank), so the lower rank can no longer lift it.
func (s *Server) banMember(c *gin.Context, scope modScope) {
	ctx := c.Request.Context()
	p := principalOf(c)
	roomID, target, reason, err := modRequest(c, "uid")
	if err != nil {
		fail(c, err)
		return
	}
	if target == p.UID {
		fail(c, errPrecondition(ReasonSelfAction, "you cannot ban yourself"))
		return
	}
	now := s.now().UTC()
	var out apiMember
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.modRoom(ctx, tx, scope, roomID, p.UID)
		if err != nil {
			return err
		}
		ref := s.fs.Doc(model.MemberPath(roomID, target))
		snap, err := tx.Get(ref)
		if err != nil && !isNotFound(err) {
			return err
		}
		if snap == nil || !snap.Exists() {
			return errNotFound("member not found")
		}
		var m model.Member
		if err := snap.DataTo(&m); err != nil {
			return err
		}
		rank := scope.rank(v)
		if m.Banned {
			// A higher rank banning again takes the ban over, so a lower
			// rank can no longer lift it; otherwise nothing changes.
			if rank.AtLeast(m.BanRank()) && rank != m.BanRank() {
				m.BannedBy, m.BannedByRank = p.UID, rank
				if err := tx.Set(ref, map[string]any{"bannedBy": p.UID, "bannedByRank": rank}, firestore.MergeAll); err != nil {
					return err
				}
				if err := s.audit(c, tx, ActionMemberBan, model.MemberPath(roomID, target), reason, scope.via()); err != nil {
					return err
				}
			}
			out = toAPIMember(target, m)
			return nil
		}
		if !slices.Contains(v.room.MemberIDs, target) {
			return errNotFound("member not found")
		}
		if !outranks(v.role(), m.Role) {
			return errDenied(ReasonRoleInsufficient, "admins ban members, not other admins or owners")
		}
		m.Role, m.Banned, m.BannedAt, m.BannedBy, m.BannedByRank = model.RoleMember, true, now, p.UID, rank
		out = toAPIMember(target, m)
		rest := slices.DeleteFunc(slices.Clone(v.room.MemberIDs), func(id string) bool { return id == target })
		writes := []func() error{
			func() error {
				return tx.Set(ref, map[string]any{"role": model.RoleMember, "banned": true, "bannedAt": now, "bannedBy": p.UID, "bannedByRank": rank}, firestore.MergeAll)
			},
			func() error {
				return tx.Update(v.ref, []firestore.Update{{Path: "memberIds", Value: rest}, {Path: "memberCount", Value: len(rest)}})
			},
			func() error { return tx.Delete(s.fs.Doc(model.MembershipPath(target, roomID))) },
			func() error { return tx.Delete(s.fs.Doc(model.InboxEntryPath(target, roomID))) },
			func() error { return tx.Delete(s.fs.Doc(model.TypingPath(roomID, target))) },
			func() error {
				return tx.Create(s.newSystemMessageRef(roomID), systemMessage(p.UID, displayName(m.DisplayName)+" was removed from the room"))
			},
			func() error {
				return s.audit(c, tx, ActionMemberBan, model.MemberPath(roomID, target), reason, scope.via())
			},
		}
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// roomUnbanMember is DELETE /v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) roomUnbanMember(c *gin.Context) { s.unbanMember(c, scopeRoom) }

// adminUnbanMember is DELETE /admin/v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) adminUnbanMember(c *gin.Context) { s.unbanMember(c, scopeApp) }

// unbanMember deletes a banned member's doc, so the user can be added
// again; it does not add them back. 404 NOT_BANNED when there is no ban,
// 403 INSUFFICIENT_RANK when a lower rank than the ban's setter tries.
func (s *Server) unbanMember(c *gin.Context, scope modScope) {
	ctx := c.Request.Context()
	p := principalOf(c)
	roomID, target, reason, err := modRequest(c, "uid")
	if err != nil {
		fail(c, err)
		return
	}
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.modRoom(ctx, tx, scope, roomID, p.UID)
		if err != nil {
			return err
		}
		ref := s.fs.Doc(model.MemberPath(roomID, target))
		snap, err := tx.Get(ref)
		if err != nil && !isNotFound(err) {
			return err
		}
		var m model.Member
		if snap == nil || !snap.Exists() || snap.DataTo(&m) != nil || !m.Banned {
			return newError(http.StatusNotFound, CodeNotFound, ReasonNotBanned, "the user is not banned from this room")
		}
		if !model.CanLiftBan(scope.rank(v), m.BanRank()) {
			return errDenied(ReasonInsufficientRank, "this ban was set by rank %s; only that rank or a higher one lifts it", m.BanRank())
		}
		if err := tx.Delete(ref); err != nil {
			return err
		}
		return s.audit(c, tx, ActionMemberUnban, model.MemberPath(roomID, target), reason, scope.via())
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// roomRedactMessage is POST /v1/rooms/{roomId}/messages/{messageId}/redact {reason?}.
func (s *Server) roomRedactMessage(c *gin.Context) { s.redactMessage(c, scopeRoom) }

// adminRedactMessage is POST /admin/v1/rooms/{roomId}/messages/{messageId}/redact {reason?}.
func (s *Server) adminRedactMessage(c *gin.Context) { s.redactMessage(c, scopeApp) }

// authorRank is the rank of a message's author, as far as it matters to a
// moderator of rank actor: the author's room role (a member when they are
// no longer in the room), or app admin when their account has the admin
// claim. The Auth lookup is made only when the role alone would let actor
// redact; an Auth error fails the redaction rather than guessing.
func (s *Server) authorRank(ctx context.Context, tx *firestore.Transaction, roomID, senderID string, actor model.Rank) (model.Rank, error) {
	if actor == model.RankAppAdmin || model.ValidateID("senderId", senderID) != nil {
		return model.RankMember, nil
	}
	rank := model.RankMember
	snap, err := tx.Get(s.fs.Doc(model.MemberPath(roomID, senderID)))
	switch {
	case err != nil && !isNotFound(err):
		return "", err
	case err == nil:
		var m model.Member
		if err := snap.DataTo(&m); err != nil {
			return "", fmt.Errorf("member %s: %w", senderID, err)
		}
		if !m.Banned {
			rank = model.RoleRank(m.Role)
		}
	}
	if !actor.AtLeast(rank) {
		return rank, nil
	}
	u, err := s.auth.GetUser(ctx, senderID)
	switch {
	case auth.IsUserNotFound(err):
		return rank, nil
	case err != nil:
		return "", fmt.Errorf("author %s: %w", senderID, err)
	}
	if admin, _ := u.CustomClaims["admin"].(bool); admin {
		return model.RankAppAdmin, nil
	}
	return rank, nil
}

// redactMessage turns a message into a tombstone (model.Message): text
// emptied, mentions and media removed, deletedAt and deletedBy = the
// moderator. Its place in the history stays. Redacting a deleted message
// is a no-op. The media object itself is the media code's to delete.
func (s *Server) redactMessage(c *gin.Context, scope modScope) {
	ctx := c.Request.Context()
	p := principalOf(c)
	roomID, msgID, reason, err := modRequest(c, "messageId")
	if err != nil {
		fail(c, err)
		return
	}
	now := s.now().UTC()
	var out apiMessage
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		v, err := s.modRoom(ctx, tx, scope, roomID, p.UID)
		if err != nil {
			return err
		}
		ref := s.fs.Doc(model.MessagePath(roomID, msgID))
		snap, err := tx.Get(ref)
		if err != nil {
			if isNotFound(err) {
				return errNotFound("message not found")
			}
			return err
		}
		var m model.Message
		if err := snap.DataTo(&m); err != nil {
			return err
		}
		if m.Deleted() {
			out = toAPIMessage(msgID, m)
			return nil
		}
		rank := scope.rank(v)
		author, err := s.authorRank(ctx, tx, roomID, m.SenderID, rank)
		if err != nil {
			return err
		}
		if !model.CanRedact(rank, author) {
			return errDenied(ReasonInsufficientRank, "the message's author has rank %s; a %s cannot redact it", author, rank)
		}
		details := scope.via()
		details["senderId"] = m.SenderID
		if err := tx.Update(ref, []firestore.Update{
			{Path: "text", Value: ""},
			{Path: "mentions", Value: firestore.Delete},
			{Path: "media", Value: firestore.Delete},
			{Path: "deletedAt", Value: now},
			{Path: "deletedBy", Value: p.UID},
		}); err != nil {
			return err
		}
		m.Text, m.Mentions, m.Media, m.DeletedAt, m.DeletedBy = "", nil, nil, now, p.UID
		out = toAPIMessage(msgID, m)
		return s.audit(c, tx, ActionMessageRedact, model.MessagePath(roomID, msgID), reason, details)
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
