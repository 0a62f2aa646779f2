package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// meResponse is the body of GET /v1/me.
type meResponse struct {
	UID            string `json:"uid"`
	Email          string `json:"email,omitempty"`
	Admin          bool   `json:"admin"`
	SignInProvider string `json:"signInProvider,omitempty"`
	AppID          string `json:"appId,omitempty"`
}

// getMe is GET /v1/me: who the token says the caller is. It does no I/O
// beyond token verification, which also makes it the benchmark's
// authenticated route.
func (s *Server) getMe(c *gin.Context) {
	p := principalOf(c)
	c.JSON(http.StatusOK, meResponse{UID: p.UID, Email: p.Email, Admin: p.Admin,
		SignInProvider: p.SignInProvider, AppID: c.GetString(ctxAppID)})
}
