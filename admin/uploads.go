package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/media"
)

// createUpload is POST /v1/uploads {roomId, contentType, size, fileName?}: 201
// {objectPath, uploadUrl, method: "PUT", headers, expiresAt}. The caller must be a
// member of the room (404 otherwise; 409 ROOM_ARCHIVED for an archived room), the
// type on the allow-list and size > 0 (400), within its type's limit (413) and
// within the caller's daily quota (429 with Retry-After). The URL is a V4 signed
// PUT of exactly the declared size and type, valid 15 minutes; see media.Issuer.
func (s *Server) createUpload(c *gin.Context) {
	var req media.UploadRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	ms, err := s.mediaService()
	if err != nil {
		fail(c, err)
		return
	}
	ticket, err := ms.IssueUpload(c.Request.Context(), principalOf(c).UID, req)
	if err != nil {
		fail(c, mediaError(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, ticket)
}
