package admin

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/gin-gonic/gin"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

const (
	ctxRequestID = "hearth.requestId"
	// maxRequestIDLen bounds a request id taken from the client.
	maxRequestIDLen = 64
)

// requestIDMiddleware gives every request an id: the caller's X-Request-Id
// when it is short and plain (so a mobile app or a load balancer can
// correlate), else a random one. The id is echoed in the response header,
// in error bodies, in access logs and in audit entries.
func requestIDMiddleware(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Set(ctxRequestID, id)
	c.Header(RequestIDHeader, id)
	c.Next()
}

// requestID returns the request's id, or "".
func requestID(c *gin.Context) string {
	return c.GetString(ctxRequestID)
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID accepts 1..64 characters of [A-Za-z0-9._:-], so a client
// cannot inject newlines or markup into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			b == '-' || b == '_' || b == '.' || b == ':') {
			return false
		}
	}
	return true
}
