package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/admin/console"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// routes is the API's only route table. Every route is also described in
// openapi.go; TestOpenAPIMatchesRouter keeps the two in sync.
//
// Middleware per route class (after the global request id, access log,
// metrics, recovery and error rendering):
//
//	ops        /healthz /readyz /metrics /openapi.json   none
//	machine    POST /events/* /schedulers/:name        404 unless Config.Events; Google OIDC token of an allowed service account
//	client     GET /v1/...                             App Check, ID token + revocation marker, rate limit
//	client     POST/PUT/PATCH/DELETE /v1/...           App Check, ID token + revocation marker (Auth when stale), rate limit
//	admin      /admin/v1/...                           ID token + revocation marker, rate limit, live admin claim
//	console    GET /console/...                        none (static pages; they call /admin/v1 with the admin's token)
//
// (auth.go explains the revocation policy.) Every route, of every class, has a
// body limit: the first middleware caps each body at its route's limit
// (bodyLimits) before anything else runs, so a new route cannot forget it and an
// oversize declared body costs no token check. TestBodyLimitDeclared and
// TestBodyLimitStreamed walk this table.
func (s *Server) routes(r *gin.Engine) {
	r.Use(limitBodies(s.cfg.MaxBodyBytes, s.bodyLimits()))
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(s.metricsHandler()))

	// Machine routes: Eventarc, Pub/Sub push and Cloud Scheduler (events.go).
	machine := r.Group("", s.machineRoutes, s.verifyCaller)
	machine.POST("/events/*path", s.serveEvents)
	machine.POST("/schedulers/:name", s.serveSchedulers)

	if s.cfg.NoClientRoutes {
		return // not an API process: health, metrics and (with Events) the machine routes only
	}
	r.GET("/openapi.json", s.openAPI)

	// Client routes: any signed-in user.
	read := r.Group("/v1", s.appCheckMiddleware, s.authenticate(tolerateStale), s.rateLimitMiddleware, s.withTimeout)
	write := r.Group("/v1", s.appCheckMiddleware, s.authenticate(authWhenStale), s.rateLimitMiddleware, s.withTimeout)
	// GET /v1/me does no I/O after authentication (which has its own
	// deadline, cfg.AuthTimeout): the same checks, no request timeout to arm.
	who := r.Group("/v1", s.appCheckMiddleware, s.authenticate(tolerateStale), s.rateLimitMiddleware)

	who.GET("/me", s.getMe)
	write.POST("/rooms", s.createRoom)
	write.POST("/rooms/direct", s.createDirectRoom)
	read.GET("/rooms/:roomId", s.getRoom)
	write.POST("/rooms/:roomId/members", s.addMembers)
	write.PATCH("/rooms/:roomId/members/:uid", s.setMemberRole)
	write.DELETE("/rooms/:roomId/members/:uid", s.removeMember)
	write.POST("/rooms/:roomId/members/:uid/ban", s.roomBanMember)
	write.DELETE("/rooms/:roomId/members/:uid/ban", s.roomUnbanMember)
	read.GET("/rooms/:roomId/messages", s.listMessages)
	write.POST("/rooms/:roomId/messages/:messageId/redact", s.roomRedactMessage)
	write.POST("/rooms/:roomId/messages/:messageId/reports", s.reportMessage)
	read.GET("/me/blocks", s.listBlocks)
	write.PUT("/me/blocks/:uid", s.putBlock)
	write.DELETE("/me/blocks/:uid", s.deleteBlock)
	write.PUT("/devices/:deviceId", s.putDevice)
	write.DELETE("/devices/:deviceId", s.deleteDevice)
	// Media: uploads.go and media.go.
	write.POST("/uploads", s.createUpload)
	read.GET("/media/*objectPath", s.getMedia)

	// Admin routes: the account's live custom claim admin: true.
	adm := r.Group("/admin/v1", s.authenticate(tolerateStale), s.rateLimitMiddleware, s.requireAdmin, s.withTimeout)

	adm.GET("/users", s.listUsers)
	adm.GET("/users/:uid", s.getUser)
	adm.DELETE("/users/:uid", s.eraseUser)
	adm.POST("/users/:uid/disable", s.disableUser)
	adm.POST("/users/:uid/enable", s.enableUser)
	adm.PUT("/users/:uid/claims", s.setUserClaims)
	adm.POST("/users/:uid/revoke-tokens", s.revokeUserTokens)

	adm.GET("/rooms", s.adminListRooms)
	adm.GET("/rooms/:roomId", s.adminGetRoom)
	adm.DELETE("/rooms/:roomId", s.adminDeleteRoom)
	adm.POST("/rooms/:roomId/archive", s.adminArchiveRoom)
	adm.POST("/rooms/:roomId/unarchive", s.adminUnarchiveRoom)
	adm.POST("/rooms/:roomId/messages/:messageId/redact", s.adminRedactMessage)
	adm.POST("/rooms/:roomId/members/:uid/ban", s.adminBanMember)
	adm.DELETE("/rooms/:roomId/members/:uid/ban", s.adminUnbanMember)

	adm.GET("/reports", s.adminListReports)
	adm.POST("/reports/:id/resolve", s.adminResolveReport)

	adm.GET("/audit", s.listAudit)
	adm.GET("/stats", s.stats)
	adm.GET("/overview", s.overview)

	// The web console (admin/console): static pages that call /admin/v1.
	r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, console.Prefix) })
	r.GET("/console/*path", gin.WrapH(s.console))
}

// bodyLimits are the routes whose body limit is not cfg.MaxBodyBytes, by
// method and full path as in routes: the audited actions whose only body is
// {reason?} take less, the member lists and the events more.
func (s *Server) bodyLimits() map[string]int64 {
	reasonOnly := min(s.cfg.MaxBodyBytes, ReasonBodyBytes)
	memberList := max(s.cfg.MaxBodyBytes, MemberListBodyBytes)
	return map[string]int64{
		"POST /events/*path": firestoreevent.MaxBodyBytes,

		"POST /v1/rooms":                                    memberList,
		"POST /v1/rooms/:roomId/members":                    memberList,
		"POST /v1/rooms/:roomId/members/:uid/ban":           reasonOnly,
		"DELETE /v1/rooms/:roomId/members/:uid/ban":         reasonOnly,
		"POST /v1/rooms/:roomId/messages/:messageId/redact": reasonOnly,

		"DELETE /admin/v1/users/:uid":                             reasonOnly,
		"POST /admin/v1/users/:uid/disable":                       reasonOnly,
		"POST /admin/v1/users/:uid/enable":                        reasonOnly,
		"POST /admin/v1/users/:uid/revoke-tokens":                 reasonOnly,
		"DELETE /admin/v1/rooms/:roomId":                          reasonOnly,
		"POST /admin/v1/rooms/:roomId/archive":                    reasonOnly,
		"POST /admin/v1/rooms/:roomId/unarchive":                  reasonOnly,
		"POST /admin/v1/rooms/:roomId/messages/:messageId/redact": reasonOnly,
		"POST /admin/v1/rooms/:roomId/members/:uid/ban":           reasonOnly,
		"DELETE /admin/v1/rooms/:roomId/members/:uid/ban":         reasonOnly,
	}
}
