package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/auditlog"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// The audited actions (auditLog/{id}.action). Every admin route that
// changes something writes one entry; room moderators' bans and
// redactions through /v1 are audited too.
const (
	ActionUserDisable      = accounts.ActionDisable
	ActionUserEnable       = accounts.ActionEnable
	ActionUserClaims       = accounts.ActionClaims
	ActionUserRevokeTokens = accounts.ActionRevokeTokens
	ActionUserErase        = accounts.ActionErase
	ActionUserGrantAdmin   = accounts.ActionGrantAdmin
	ActionUserRevokeAdmin  = accounts.ActionRevokeAdmin
	ActionRoomArchive      = rooms.ActionArchive
	ActionRoomUnarchive    = rooms.ActionUnarchive
	ActionRoomDelete       = rooms.ActionDelete
	ActionMessageRedact    = rooms.ActionRedact
	ActionMemberBan        = rooms.ActionBan
	ActionMemberUnban      = rooms.ActionUnban
)

// MaxReasonLen is the longest reason an admin may give, in runes.
const MaxReasonLen = 500

// CLIActor is the actorUid of actions taken with `hearth users` (no ID
// token, so no uid): the operator's credentials are what authorised them.
const CLIActor = "hearth-cli"

// apiAuditEntry is the JSON of an audit entry.
type apiAuditEntry struct {
	ID        string            `json:"id"`
	At        time.Time         `json:"at"`
	ActorUID  string            `json:"actorUid"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	Reason    string            `json:"reason,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

// writeAudit writes the audit entry e (an action on a relative document
// path, "rooms/r1/members/u1"), in tx when it is not nil (so the entry and
// the change commit together) or else on its own after the change
// succeeded (Auth changes cannot join a Firestore transaction).
func (s *Server) writeAudit(ctx context.Context, tx *firestore.Transaction, e model.AuditEntry) error {
	if err := (auditlog.Writer{FS: s.fs}).Audit(ctx, tx, e); err != nil {
		return err
	}
	// Counted when written; a transaction that retries counts again, which
	// is fine for a rate-of-actions metric.
	s.metrics.audit.WithLabelValues(e.Action).Inc()
	return nil
}

// reasonRequest is the optional body of admin and moderation actions.
type reasonRequest struct {
	Reason string `json:"reason"`
}

// decodeReason reads an optional {"reason": "..."} body; an empty body is
// no reason.
func decodeReason(c *gin.Context) (string, error) {
	var req reasonRequest
	if _, err := decodeOptionalJSON(c, &req); err != nil {
		return "", err
	}
	if err := validateReason(req.Reason); err != nil {
		return "", err
	}
	return req.Reason, nil
}

// pathAndReason reads the target of an audited action from the path with
// param, then the action's optional {"reason": "..."} body.
func pathAndReason(c *gin.Context, param func(*gin.Context) (string, error)) (id, reason string, err error) {
	if id, err = param(c); err != nil {
		return "", "", err
	}
	if reason, err = decodeReason(c); err != nil {
		return "", "", err
	}
	return id, reason, nil
}

func validateReason(r string) error {
	switch {
	case !utf8.ValidString(r):
		return fieldsError("invalid request", FieldIssue{Field: "reason", Reason: "not valid UTF-8"})
	case utf8.RuneCountInString(r) > MaxReasonLen:
		return fieldsError("invalid request", FieldIssue{Field: "reason", Reason: fmt.Sprintf("too long: more than %d characters", MaxReasonLen)})
	case strings.ContainsFunc(r, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }):
		return fieldsError("invalid request", FieldIssue{Field: "reason", Reason: "contains control characters"})
	}
	return nil
}

// listAudit is GET /admin/v1/audit?limit=&pageToken=&actor=&action=&since=&until=:
// entries newest first; since (inclusive) and until (exclusive) are RFC 3339
// times.
func (s *Server) listAudit(c *gin.Context) {
	ctx := c.Request.Context()
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	token, err := queryID(c, "pageToken")
	if err != nil {
		fail(c, err)
		return
	}
	actor, err := queryID(c, "actor")
	if err != nil {
		fail(c, err)
		return
	}
	q := s.fs.Collection(model.AuditLogCollection).Query
	if actor != "" {
		q = q.Where("actorUid", "==", actor)
	}
	if action := c.Query("action"); action != "" {
		if len(action) > 64 {
			fail(c, fieldsError("invalid query", FieldIssue{Field: "action", Reason: "too long"}))
			return
		}
		q = q.Where("action", "==", action)
	}
	for _, b := range []struct {
		param, op string
	}{{"since", ">="}, {"until", "<"}} {
		t, err := queryTime(c, b.param)
		if err != nil {
			fail(c, err)
			return
		}
		if !t.IsZero() {
			q = q.Where("at", b.op, t)
		}
	}
	q = q.OrderBy("at", firestore.Desc)
	var cursor *firestore.DocumentRef
	if token != "" {
		cursor = s.fs.Doc(model.AuditEntryPath(token))
	}
	var out struct {
		Entries       []apiAuditEntry `json:"entries"`
		NextPageToken string          `json:"nextPageToken,omitempty"`
	}
	badToken := fieldsError("invalid query", FieldIssue{Field: "pageToken", Reason: "not a page token of this list"})
	out.Entries, out.NextPageToken, err = listPage(ctx, q, cursor, badToken, limit, "audit entries",
		func(id string, e model.AuditEntry) apiAuditEntry {
			return apiAuditEntry{
				ID: id, At: e.At, ActorUID: e.ActorUID, Action: e.Action, Target: e.Target,
				Reason: e.Reason, Details: e.Details, RequestID: e.RequestID,
			}
		})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
