package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// Rooms for app admins (/admin/v1): any room, audited. The room rules are
// internal/rooms'.

// adminListRooms is GET /admin/v1/rooms?limit=&pageToken=&archived=&type=:
// rooms newest first. pageToken is the nextPageToken of the previous page.
func (s *Server) adminListRooms(c *gin.Context) {
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	in := rooms.ListInput{Limit: limit, Type: model.RoomType(c.Query("type")), After: c.Query("pageToken")}
	var issues []FieldIssue
	switch v := c.Query("archived"); v {
	case "":
	case "true", "false":
		archived := v == "true"
		in.Archived = &archived
	default:
		issues = append(issues, FieldIssue{Field: "archived", Reason: "must be true or false"})
	}
	if in.Type != "" && !in.Type.Valid() {
		issues = append(issues, FieldIssue{Field: "type", Reason: fmt.Sprintf("must be one of %q", model.RoomTypes())})
	}
	if in.After != "" && model.ValidateRoomID("pageToken", in.After) != nil {
		issues = append(issues, FieldIssue{Field: "pageToken", Reason: "not a page token of this list"})
	}
	if len(issues) > 0 {
		fail(c, fieldsError("invalid query", issues...))
		return
	}
	res, err := s.rooms.List(c.Request.Context(), in)
	if errors.Is(err, rooms.ErrCursorGone) {
		err = fieldsError("invalid query", FieldIssue{Field: "pageToken", Reason: "the room it points at is gone; start again"}).withCause(err)
	}
	if err != nil {
		fail(c, err)
		return
	}
	out := struct {
		Rooms         []apiRoom `json:"rooms"`
		NextPageToken string    `json:"nextPageToken,omitempty"`
	}{Rooms: make([]apiRoom, len(res.Rooms)), NextPageToken: res.Next}
	for i, r := range res.Rooms {
		out.Rooms[i] = toAPIRoom(r.ID, r.Room)
	}
	c.JSON(http.StatusOK, out)
}

// adminGetRoom is GET /admin/v1/rooms/{roomId}: any room with its full
// roster, banned members included.
func (s *Server) adminGetRoom(c *gin.Context) {
	roomID, err := pathRoomID(c)
	if err != nil {
		fail(c, err)
		return
	}
	r, members, err := s.rooms.Roster(c.Request.Context(), roomID)
	if err != nil {
		fail(c, err)
		return
	}
	out := toAPIRoom(roomID, r.Room)
	out.Members = make([]apiMember, len(members))
	for i, m := range members {
		out.Members[i] = toAPIMember(m.UID, m.Member)
	}
	c.JSON(http.StatusOK, out)
}

// adminArchiveRoom is POST /admin/v1/rooms/{roomId}/archive {reason?}: the
// room becomes read-only (the rules refuse new messages; the API refuses
// member changes).
func (s *Server) adminArchiveRoom(c *gin.Context) { s.setArchived(c, true) }

// adminUnarchiveRoom is POST /admin/v1/rooms/{roomId}/unarchive {reason?}.
func (s *Server) adminUnarchiveRoom(c *gin.Context) { s.setArchived(c, false) }

func (s *Server) setArchived(c *gin.Context, archived bool) {
	roomID, reason, err := pathAndReason(c, pathRoomID)
	if err != nil {
		fail(c, err)
		return
	}
	r, err := s.rooms.SetArchived(actionContext(c), rooms.AdminInput{Actor: principalOf(c).UID, RoomID: roomID, Reason: reason}, archived)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIRoom(roomID, r.Room))
}

// adminDeleteRoom is DELETE /admin/v1/rooms/{roomId} {reason?}: the room
// and everything under it (members, messages, typing), recursively
// (rooms.Service.Delete).
func (s *Server) adminDeleteRoom(c *gin.Context) {
	roomID, reason, err := pathAndReason(c, pathRoomID)
	if err != nil {
		fail(c, err)
		return
	}
	if _, err := s.rooms.Delete(actionContext(c), rooms.AdminInput{Actor: principalOf(c).UID, RoomID: roomID, Reason: reason}); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// adminBanMember is POST /admin/v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) adminBanMember(c *gin.Context) { s.banMember(c, true) }

// adminUnbanMember is DELETE /admin/v1/rooms/{roomId}/members/{uid}/ban {reason?}.
func (s *Server) adminUnbanMember(c *gin.Context) { s.unbanMember(c, true) }

// adminRedactMessage is POST /admin/v1/rooms/{roomId}/messages/{messageId}/redact {reason?}.
func (s *Server) adminRedactMessage(c *gin.Context) { s.redactMessage(c, true) }
