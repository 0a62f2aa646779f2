package admin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// Rooms for their members (/v1): the room rules are internal/rooms'; the
// admin routes of rooms are in admin_rooms.go.

// apiRoom is the JSON of a room.
type apiRoom struct {
	ID            string          `json:"id"`
	Type          model.RoomType  `json:"type"`
	Title         string          `json:"title,omitempty"`
	PhotoURL      string          `json:"photoURL,omitempty"`
	CreatedBy     string          `json:"createdBy"`
	CreatedAt     time.Time       `json:"createdAt"`
	MemberIDs     []string        `json:"memberIds"`
	MemberCount   int             `json:"memberCount"`
	LastMessage   *apiLastMessage `json:"lastMessage,omitempty"`
	LastMessageAt time.Time       `json:"lastMessageAt,omitzero"`
	MessageCount  int64           `json:"messageCount"`
	Archived      bool            `json:"archived"`
	// MyRole is the caller's role (client routes).
	MyRole model.Role `json:"myRole,omitempty"`
	// Members is the full roster, banned members included (admin view).
	Members []apiMember `json:"members,omitempty"`
}

// apiLastMessage is the JSON of a room's last-message preview.
type apiLastMessage struct {
	ID         string            `json:"id"`
	SenderID   string            `json:"senderId"`
	SenderName string            `json:"senderName"`
	Type       model.MessageType `json:"type"`
	Preview    string            `json:"preview"`
	SentAt     time.Time         `json:"sentAt"`
}

func toAPIRoom(id string, r model.Room) apiRoom {
	out := apiRoom{
		ID: id, Type: r.Type, Title: r.Title, PhotoURL: r.PhotoURL, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, MemberIDs: r.MemberIDs, MemberCount: r.MemberCount,
		LastMessageAt: r.LastMessageAt, MessageCount: r.MessageCount, Archived: r.Archived,
	}
	if out.MemberIDs == nil {
		out.MemberIDs = []string{}
	}
	if lm := r.LastMessage; lm != nil {
		out.LastMessage = &apiLastMessage{ID: lm.ID, SenderID: lm.SenderID, SenderName: lm.SenderName,
			Type: lm.Type, Preview: lm.Preview, SentAt: lm.SentAt}
	}
	return out
}

func errRoomNotFound() *apiError { return errNotFound("room not found") }

// getRoom is GET /v1/rooms/{roomId}: the room, for members. A missing room
// and a caller who is not in memberIds (never was, left, or was banned) are
// the same 404 NOT_FOUND.
func (s *Server) getRoom(c *gin.Context) {
	roomID, err := pathRoomID(c)
	if err != nil {
		fail(c, err)
		return
	}
	v, err := s.rooms.Get(c.Request.Context(), roomID, principalOf(c).UID)
	if err != nil {
		fail(c, err)
		return
	}
	out := toAPIRoom(roomID, v.Room.Room)
	out.MyRole = v.Role()
	c.JSON(http.StatusOK, out)
}

// createRoomRequest is the body of POST /v1/rooms.
type createRoomRequest struct {
	Title     string   `json:"title"`
	PhotoURL  string   `json:"photoURL"`
	MemberIDs []string `json:"memberIds"`
}

// createRoom is POST /v1/rooms: a group room whose owner is the caller and
// whose other members are memberIds (existing users; the caller's own uid
// may be listed), with a system message (rooms.Service.CreateGroup).
func (s *Server) createRoom(c *gin.Context) {
	var req createRoomRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	r, err := s.rooms.CreateGroup(c.Request.Context(), rooms.CreateGroupInput{
		Creator: principalOf(c).UID, Title: req.Title, PhotoURL: req.PhotoURL, MemberIDs: req.MemberIDs,
	})
	if err != nil {
		fail(c, err)
		return
	}
	out := toAPIRoom(r.ID, r.Room)
	out.MyRole = model.RoleOwner
	c.Header("Location", "/v1/rooms/"+r.ID)
	c.JSON(http.StatusCreated, out)
}

// directRoomRequest is the body of POST /v1/rooms/direct.
type directRoomRequest struct {
	UserID string `json:"userId"`
}

// createDirectRoom is POST /v1/rooms/direct: the one direct room of the
// caller and userId, whose id is model.DirectRoomID of the pair. It is
// created (201) on first use and returned (200) afterwards.
func (s *Server) createDirectRoom(c *gin.Context) {
	var req directRoomRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	r, err := s.rooms.OpenDirect(c.Request.Context(), rooms.OpenDirectInput{Caller: principalOf(c).UID, Other: req.UserID})
	if err != nil {
		fail(c, err)
		return
	}
	out := toAPIRoom(r.ID, r.Room.Room)
	out.MyRole = model.RoleMember
	status := http.StatusOK
	if r.Created {
		status = http.StatusCreated
		c.Header("Location", "/v1/rooms/"+r.ID)
	}
	c.JSON(status, out)
}
