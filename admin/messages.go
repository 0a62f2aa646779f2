package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// apiMessage is the JSON of a message. A deleted or redacted message is a
// tombstone: deleted true, no text, mentions or media.
type apiMessage struct {
	ID        string            `json:"id"`
	SenderID  string            `json:"senderId"`
	Type      model.MessageType `json:"type"`
	Text      string            `json:"text"`
	Mentions  []string          `json:"mentions,omitempty"`
	ReplyTo   string            `json:"replyTo,omitempty"`
	Media     *apiMedia         `json:"media,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	EditedAt  time.Time         `json:"editedAt,omitzero"`
	Deleted   bool              `json:"deleted"`
	DeletedAt time.Time         `json:"deletedAt,omitzero"`
	DeletedBy string            `json:"deletedBy,omitempty"`
	// Derived by Hearth: per-emoji reaction counts and the summary of the message's
	// thread (the replies to it).
	ReactionCounts map[string]int `json:"reactionCounts,omitempty"`
	ReplyCount     int            `json:"replyCount,omitempty"`
	LastReplyAt    time.Time      `json:"lastReplyAt,omitzero"`
	LastRepliers   []string       `json:"lastRepliers,omitempty"`
	// Hidden: members reported the message past the threshold (reports);
	// apps leave it out of their default views.
	Hidden bool `json:"hidden,omitempty"`
}

// apiMedia is the JSON of a message's attachment.
type apiMedia struct {
	Path          string            `json:"path"`
	ContentType   string            `json:"contentType"`
	Size          int64             `json:"size"`
	Width         int               `json:"width,omitempty"`
	Height        int               `json:"height,omitempty"`
	DurationMs    int64             `json:"durationMs,omitempty"`
	ThumbnailPath string            `json:"thumbnailPath,omitempty"`
	Status        model.MediaStatus `json:"status"`
}

func toAPIMessage(id string, m model.Message) apiMessage {
	out := apiMessage{
		ID: id, SenderID: m.SenderID, Type: m.Type, Text: m.Text, Mentions: m.Mentions,
		ReplyTo: m.ReplyTo, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt,
		Deleted: m.Deleted(), DeletedAt: m.DeletedAt, DeletedBy: m.DeletedBy, Hidden: m.Hidden,
		ReactionCounts: m.ReactionCounts, ReplyCount: m.ReplyCount, LastReplyAt: m.LastReplyAt, LastRepliers: m.LastRepliers,
	}
	if md := m.Media; md != nil {
		out.Media = &apiMedia{Path: md.Path, ContentType: md.ContentType, Size: md.Size, Width: md.Width,
			Height: md.Height, DurationMs: md.DurationMs, ThumbnailPath: md.ThumbnailPath, Status: md.Status}
	}
	return out
}

// messagePage is one page of history.
type messagePage struct {
	Messages []apiMessage `json:"messages"`
	// NextCursor, when set, is the ?before= of the next (older) page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// listMessages is GET /v1/rooms/{roomId}/messages?before=&limit=&thread=: the
// room's history for members, newest first. before is the id of the oldest
// message the client has (nextCursor of the previous page); the page holds
// the messages just older than it. Ordering is createdAt, then document id,
// both descending, so messages of the same instant page stably. Tombstones
// are included: their place in the conversation stays. thread=ID pages the
// replies to message ID (its thread) the same way; an unknown ID is a 404.
func (s *Server) listMessages(c *gin.Context) {
	ctx := c.Request.Context()
	roomID, err := pathRoomID(c)
	if err != nil {
		fail(c, err)
		return
	}
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	before, err := queryID(c, "before")
	if err != nil {
		fail(c, err)
		return
	}
	thread, err := queryID(c, "thread")
	if err != nil {
		fail(c, err)
		return
	}
	res, err := s.rooms.History(ctx, rooms.HistoryInput{Caller: principalOf(c).UID, RoomID: roomID, Before: before, Limit: limit, Thread: thread})
	if errors.Is(err, rooms.ErrCursorGone) {
		err = fieldsError("invalid query", FieldIssue{Field: "before", Reason: "no such message in this room"}).withCause(err)
	}
	if err != nil {
		fail(c, err)
		return
	}
	out := messagePage{Messages: make([]apiMessage, len(res.Messages)), NextCursor: res.Next}
	for i, m := range res.Messages {
		out.Messages[i] = toAPIMessage(m.ID, m.Message)
	}
	c.JSON(http.StatusOK, out)
}
