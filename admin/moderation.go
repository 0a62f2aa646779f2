package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/rooms"
)

// Moderation: banning members and redacting messages. Each action has two
// doors with one implementation (internal/rooms): /v1 for the room's owners
// and admins (within their rank, the routes below) and /admin/v1 for app
// admins (any room, any member; admin_rooms.go). Both are audited.

// roomBanMember is POST /v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) roomBanMember(c *gin.Context) { s.banMember(c, false) }

// roomUnbanMember is DELETE /v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) roomUnbanMember(c *gin.Context) { s.unbanMember(c, false) }

// roomRedactMessage is POST /v1/rooms/{roomId}/messages/{messageId}/redact {reason?}.
func (s *Server) roomRedactMessage(c *gin.Context) { s.redactMessage(c, false) }

// modRequest reads a moderation action's room and target (the path
// parameter name: a member's uid, a message id) and its optional reason;
// appAdmin says which door the caller came through.
func modRequest(c *gin.Context, name string, appAdmin bool) (rooms.ModerationInput, error) {
	roomID, id, err := pathInRoom(c, name)
	if err != nil {
		return rooms.ModerationInput{}, err
	}
	reason, err := decodeReason(c)
	if err != nil {
		return rooms.ModerationInput{}, err
	}
	return rooms.ModerationInput{Moderator: rooms.Moderator{UID: principalOf(c).UID, AppAdmin: appAdmin},
		RoomID: roomID, Target: id, Reason: reason}, nil
}

// banMember bans a current member (rooms.Service.Ban) and answers the
// member as banned.
func (s *Server) banMember(c *gin.Context, appAdmin bool) {
	in, err := modRequest(c, "uid", appAdmin)
	if err != nil {
		fail(c, err)
		return
	}
	m, err := s.rooms.Ban(actionContext(c), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIMember(m.UID, m.Member))
}

// unbanMember lifts a ban (rooms.Service.Unban): 404 NOT_BANNED when there
// is none, 403 INSUFFICIENT_RANK when a lower rank than the ban's setter
// tries.
func (s *Server) unbanMember(c *gin.Context, appAdmin bool) {
	in, err := modRequest(c, "uid", appAdmin)
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.rooms.Unban(actionContext(c), in); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// redactMessage turns a message into a tombstone (rooms.Service.Redact) and
// answers it.
func (s *Server) redactMessage(c *gin.Context, appAdmin bool) {
	in, err := modRequest(c, "messageId", appAdmin)
	if err != nil {
		fail(c, err)
		return
	}
	m, err := s.rooms.Redact(actionContext(c), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIMessage(m.ID, m.Message))
}
