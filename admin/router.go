package admin

import (
	"github.com/gin-gonic/gin"
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
//	client     POST/PUT/PATCH/DELETE /v1/...           App Check, ID token + revocation marker (Auth when stale), rate limit, body limit
//	admin      /admin/v1/...                           ID token + revocation marker, rate limit, live admin claim, body limit
//
// (auth.go explains the revocation policy.)
func (s *Server) routes(r *gin.Engine) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(s.metricsHandler()))
	r.GET("/openapi.json", s.openAPI)

	// Machine routes: Eventarc, Pub/Sub push and Cloud Scheduler (events.go).
	machine := r.Group("", s.machineRoutes, s.verifyCaller)
	machine.POST("/events/*path", s.serveEvents)
	machine.POST("/schedulers/:name", s.serveSchedulers)

	small := limitBody(s.cfg.MaxBodyBytes)
	large := limitBody(max(s.cfg.MaxBodyBytes, MemberListBodyBytes))

	// Client routes: any signed-in user.
	read := r.Group("/v1", s.appCheckMiddleware, s.authenticate(tolerateStale), s.rateLimitMiddleware, s.withTimeout)
	write := r.Group("/v1", s.appCheckMiddleware, s.authenticate(authWhenStale), s.rateLimitMiddleware, s.withTimeout)

	read.GET("/me", s.getMe)
	write.POST("/rooms", large, s.createRoom)
	write.POST("/rooms/direct", small, s.createDirectRoom)
	read.GET("/rooms/:roomId", s.getRoom)
	write.POST("/rooms/:roomId/members", large, s.addMembers)
	write.PATCH("/rooms/:roomId/members/:uid", small, s.setMemberRole)
	write.DELETE("/rooms/:roomId/members/:uid", s.removeMember)
	write.POST("/rooms/:roomId/members/:uid/ban", small, s.roomBanMember)
	write.DELETE("/rooms/:roomId/members/:uid/ban", s.roomUnbanMember)
	read.GET("/rooms/:roomId/messages", s.listMessages)
	write.POST("/rooms/:roomId/messages/:messageId/redact", small, s.roomRedactMessage)
	write.PUT("/devices/:deviceId", small, s.putDevice)
	write.DELETE("/devices/:deviceId", s.deleteDevice)
	// Media: uploads.go and media.go (the media engineer's).
	write.POST("/uploads", small, s.createUpload)
	read.GET("/media/*objectPath", s.getMedia)

	// Admin routes: the account's live custom claim admin: true.
	adm := r.Group("/admin/v1", s.authenticate(tolerateStale), s.rateLimitMiddleware, s.requireAdmin, s.withTimeout)

	adm.GET("/users", s.listUsers)
	adm.GET("/users/:uid", s.getUser)
	adm.DELETE("/users/:uid", small, s.eraseUser)
	adm.POST("/users/:uid/disable", small, s.disableUser)
	adm.POST("/users/:uid/enable", small, s.enableUser)
	adm.PUT("/users/:uid/claims", small, s.setUserClaims)
	adm.POST("/users/:uid/revoke-tokens", small, s.revokeUserTokens)

	adm.GET("/rooms", s.adminListRooms)
	adm.GET("/rooms/:roomId", s.adminGetRoom)
	adm.DELETE("/rooms/:roomId", small, s.adminDeleteRoom)
	adm.POST("/rooms/:roomId/archive", small, s.adminArchiveRoom)
	adm.POST("/rooms/:roomId/unarchive", small, s.adminUnarchiveRoom)
	adm.POST("/rooms/:roomId/messages/:messageId/redact", small, s.adminRedactMessage)
	adm.POST("/rooms/:roomId/members/:uid/ban", small, s.adminBanMember)
	adm.DELETE("/rooms/:roomId/members/:uid/ban", small, s.adminUnbanMember)

	adm.GET("/audit", s.listAudit)
	adm.GET("/stats", s.stats)
}
