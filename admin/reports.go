package admin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/reports"
)

// Reports by members (/v1): a member reports a message of their room once,
// with a reason. internal/reports holds the rules; admin_reports.go is the
// moderation queue.

// reportRequest is the body of POST /v1/rooms/{roomId}/messages/{messageId}/reports.
type reportRequest struct {
	Reason model.ReportReason `json:"reason"`
	Note   string             `json:"note,omitempty"`
}

// apiFiledReport is a report as its reporter sees it: their own, never how
// many others reported the message.
type apiFiledReport struct {
	RoomID    string             `json:"roomId"`
	MessageID string             `json:"messageId"`
	Reason    model.ReportReason `json:"reason"`
	Note      string             `json:"note,omitempty"`
	CreatedAt time.Time          `json:"createdAt"`
}

// filedReportResponse is the answer of the report route: {"report": {...}}.
type filedReportResponse struct {
	Report apiFiledReport `json:"report"`
}

// reportMessage is POST /v1/rooms/{roomId}/messages/{messageId}/reports
// {reason, note?}: 201 {"report": {...}}; 409 ALREADY_REPORTED for a second
// report of the same message by the same member, 429 RATE_LIMITED beyond
// the hourly limit (Retry-After), 404 for a room the caller is not in or a
// message that does not exist, 409 for one's own, a deleted or a system
// message.
func (s *Server) reportMessage(c *gin.Context) {
	roomID, messageID, err := pathInRoom(c, "messageId")
	if err != nil {
		fail(c, err)
		return
	}
	var req reportRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	f, err := s.reports.Report(c.Request.Context(), reports.Input{Reporter: principalOf(c).UID, RoomID: roomID,
		MessageID: messageID, Reason: req.Reason, Note: req.Note})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, filedReportResponse{Report: apiFiledReport{RoomID: f.RoomID, MessageID: f.MessageID,
		Reason: f.Reason, Note: f.Note, CreatedAt: f.CreatedAt}})
}
