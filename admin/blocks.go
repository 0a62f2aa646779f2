package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/blocks"
)

// The caller's blocks (/v1/me/blocks): users/{uid}/blocks/{otherUid}.
// Clients may as well write these documents directly (the rules allow the
// owner to create and delete them); the routes are for apps that prefer the
// API. internal/blocks holds the rules.

// apiBlock is the JSON of a block.
type apiBlock struct {
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
}

// blockPage is a page of the caller's blocks.
type blockPage struct {
	Blocks        []apiBlock `json:"blocks"`
	NextPageToken string     `json:"nextPageToken,omitempty"`
}

// listBlocks is GET /v1/me/blocks?limit=&pageToken=: the caller's blocks,
// newest first.
func (s *Server) listBlocks(c *gin.Context) {
	limit, err := pageSize(c)
	if err != nil {
		fail(c, err)
		return
	}
	after, err := queryID(c, "pageToken")
	if err != nil {
		fail(c, err)
		return
	}
	res, err := s.blocks.List(c.Request.Context(), principalOf(c).UID, limit, after)
	if errors.Is(err, blocks.ErrCursorGone) {
		err = fieldsError("invalid query", FieldIssue{Field: "pageToken", Reason: "the block it points at is gone; start again"}).withCause(err)
	}
	if err != nil {
		fail(c, err)
		return
	}
	out := blockPage{Blocks: make([]apiBlock, len(res.Blocks)), NextPageToken: res.Next}
	for i, b := range res.Blocks {
		out.Blocks[i] = apiBlock{UserID: b.UID, CreatedAt: b.CreatedAt}
	}
	c.JSON(http.StatusOK, out)
}

// putBlock is PUT /v1/me/blocks/{uid}: block uid; 201 when new, 200 when
// it was blocked already (the first block's createdAt is kept).
func (s *Server) putBlock(c *gin.Context) {
	uid, err := pathUID(c)
	if err != nil {
		fail(c, err)
		return
	}
	b, created, err := s.blocks.Add(c.Request.Context(), principalOf(c).UID, uid)
	if err != nil {
		fail(c, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	c.JSON(code, apiBlock{UserID: b.UID, CreatedAt: b.CreatedAt})
}

// deleteBlock is DELETE /v1/me/blocks/{uid}: lift the block; 204 whether
// or not there was one.
func (s *Server) deleteBlock(c *gin.Context) {
	uid, err := pathUID(c)
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.blocks.Remove(c.Request.Context(), principalOf(c).UID, uid); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
