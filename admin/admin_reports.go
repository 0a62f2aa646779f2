package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/reports"
)

// The moderation queue for app admins (/admin/v1/reports): one entry per
// reported message, resolved by dismissing, redacting or banning the sender.
// The rules are internal/reports'.

// apiReport is the JSON of a queue entry.
type apiReport struct {
	// ID is opaque: "{roomId}~{messageId}".
	ID              string             `json:"id"`
	RoomID          string             `json:"roomId"`
	MessageID       string             `json:"messageId"`
	SenderID        string             `json:"senderId"`
	Text            string             `json:"text"`
	Reasons         map[string]int     `json:"reasons"`
	Count           int                `json:"count"`
	FirstReportedAt time.Time          `json:"firstReportedAt"`
	LastReportedAt  time.Time          `json:"lastReportedAt"`
	Hidden          bool               `json:"hidden"`
	Status          model.ReportStatus `json:"status"`
	// Resolution is null while the entry is open.
	Resolution *apiResolution `json:"resolution"`
}

// apiResolution is how a queue entry was resolved.
type apiResolution struct {
	Action model.ReportAction `json:"action"`
	By     string             `json:"by"`
	At     time.Time          `json:"at"`
	Note   string             `json:"note"`
}

func toAPIReport(e reports.Entry) apiReport {
	out := apiReport{ID: e.ID, RoomID: e.RoomID, MessageID: e.MessageID, SenderID: e.SenderID, Text: e.Text,
		Reasons: e.Reasons, Count: e.Count, FirstReportedAt: e.FirstReportedAt, LastReportedAt: e.LastReportedAt,
		Hidden: e.Hidden, Status: e.Status}
	if out.Reasons == nil {
		out.Reasons = map[string]int{}
	}
	if r := e.Resolution; r != nil {
		out.Resolution = &apiResolution{Action: r.Action, By: r.By, At: r.At, Note: r.Note}
	}
	return out
}

// reportPage is a page of the queue.
type reportPage struct {
	Reports       []apiReport `json:"reports"`
	NextPageToken string      `json:"nextPageToken,omitempty"`
}

// reportResponse is {"report": {...}}.
type reportResponse struct {
	Report apiReport `json:"report"`
}

// resolveRequest is the body of POST /admin/v1/reports/{id}/resolve.
type resolveRequest struct {
	Action model.ReportAction `json:"action"`
	Note   string             `json:"note,omitempty"`
}

// adminListReports is GET /admin/v1/reports?status=&roomId=&reason=&olderThan=&limit=&pageToken=:
// the queue, oldest first reported first; status defaults to open.
func (s *Server) adminListReports(c *gin.Context) {
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	olderThan, err := queryTime(c, "olderThan")
	if err != nil {
		fail(c, err)
		return
	}
	in := reports.ListInput{Status: model.ReportStatus(c.Query("status")), RoomID: c.Query("roomId"),
		Reason: model.ReportReason(c.Query("reason")), Limit: limit, After: c.Query("pageToken"), OlderThan: olderThan}
	res, err := s.reports.List(c.Request.Context(), in)
	if errors.Is(err, reports.ErrCursorGone) {
		err = fieldsError("invalid query", FieldIssue{Field: "pageToken", Reason: "the report it points at is gone; start again"}).withCause(err)
	}
	if err != nil {
		fail(c, err)
		return
	}
	out := reportPage{Reports: make([]apiReport, len(res.Entries)), NextPageToken: res.Next}
	for i, e := range res.Entries {
		out.Reports[i] = toAPIReport(e)
	}
	c.JSON(http.StatusOK, out)
}

// adminResolveReport is POST /admin/v1/reports/{id}/resolve {action, note?}:
// dismiss, redact or ban, audited (report.dismiss, report.redact,
// report.ban); 200 {"report": {...}} resolved, 404 for an unknown id, 409
// REPORT_RESOLVED when it is resolved already.
func (s *Server) adminResolveReport(c *gin.Context) {
	var req resolveRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	e, err := s.reports.Resolve(actionContext(c), reports.ResolveInput{Actor: principalOf(c).UID, ID: c.Param("id"),
		Action: req.Action, Note: req.Note})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, reportResponse{Report: toAPIReport(e)})
}
