package admin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// Members of a room (/v1): the membership rules are internal/rooms'.

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
	res, err := s.rooms.AddMembers(c.Request.Context(), rooms.AddMembersInput{Caller: principalOf(c).UID, RoomID: roomID, UserIDs: req.UserIDs})
	if err != nil {
		fail(c, err)
		return
	}
	out := addMembersResponse{RoomID: res.RoomID, Added: make([]apiMember, len(res.Added)), MemberCount: res.MemberCount}
	for i, m := range res.Added {
		out.Added[i] = toAPIMember(m.UID, m.Member)
	}
	c.JSON(http.StatusOK, out)
}

// roleRequest is the body of PATCH /v1/rooms/{roomId}/members/{uid}.
type roleRequest struct {
	Role model.Role `json:"role"`
}

// setMemberRole is PATCH /v1/rooms/{roomId}/members/{uid} {role}: owners
// change roles (admins and owners are theirs to manage). The last owner
// cannot step down.
func (s *Server) setMemberRole(c *gin.Context) {
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
	m, err := s.rooms.SetRole(c.Request.Context(), rooms.SetRoleInput{Caller: principalOf(c).UID, RoomID: roomID, UID: target, Role: req.Role})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIMember(m.UID, m.Member))
}

// removeMember is DELETE /v1/rooms/{roomId}/members/{uid}: a member leaves
// (uid = the caller), or an owner or admin removes someone they outrank.
// The last owner may leave only as the last member. A group whose last
// member leaves is archived.
func (s *Server) removeMember(c *gin.Context) {
	roomID, target, err := pathInRoom(c, "uid")
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.rooms.RemoveMember(c.Request.Context(), rooms.RemoveMemberInput{Caller: principalOf(c).UID, RoomID: roomID, UID: target}); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
