package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
)

// The OpenAPI 3 document served at /openapi.json is generated here: the
// operations are listed below (TestOpenAPIMatchesRouter fails when a route
// of router.go has no operation or an operation no route), and the schemas
// are derived by reflection from the handlers' JSON types, so a field added
// to a response type appears in the spec without an edit here.

// access is the authentication class of an operation.
type access int

const (
	public    access = iota // no token
	userRead                // ID token + revocation marker (+ App Check)
	userWrite               // ID token + revocation marker, Auth when stale (+ App Check)
	adminOnly               // ID token + revocation marker + live admin claim
	machine                 // Google OIDC token of an allowed service account; 404 unless events are on
)

type queryParam struct {
	name, typ, desc string
}

// operation describes one route.
type operation struct {
	method, path string // as in router.go
	tag          string
	summary      string
	desc         string
	access       access
	query        []queryParam
	body         any // request JSON type (zero value) or a schema map; nil = no body
	bodyOptional bool
	status       int // success status
	resp         any // response JSON type, a schema map, or nil (no content)
	roomScoped   bool
	// also are other answers with the success body (status -> description): 201 of
	// a create-or-get, 503 of /readyz.
	also map[int]string
	// errs are error answers of this operation beyond those its access class, body
	// and path give every operation (status -> description; the body is an Error,
	// or plain text with errsText).
	errs     map[int]string
	errsText bool // errs are answered in plain text (a file server's), not as an Error
}

var (
	qLimit     = queryParam{"limit", "integer", fmt.Sprintf("page size, 1..%d (default %d)", MaxPageSize, DefaultPageSize)}
	qPageToken = queryParam{"pageToken", "string", "nextPageToken of the previous page"}
)

// uploadRequestSchema and uploadResponseSchema describe POST /v1/uploads
// (docs/media.md); the media code owns the handler.
var uploadRequestSchema = map[string]any{
	"type": "object", "required": []string{"roomId", "contentType", "size"},
	"properties": map[string]any{
		"roomId":      map[string]any{"type": "string"},
		"contentType": map[string]any{"type": "string", "example": "image/jpeg"},
		"size":        map[string]any{"type": "integer", "format": "int64"},
		"fileName":    map[string]any{"type": "string"},
	},
}

var uploadResponseSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"objectPath": map[string]any{"type": "string"},
		"uploadUrl":  map[string]any{"type": "string", "format": "uri"},
		"method":     map[string]any{"type": "string", "example": "PUT"},
		"headers": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"},
			"description": "Send each with the PUT, unchanged: Content-Type, x-goog-content-length-range and x-goog-if-generation-match (0: the URL creates the object once; a replay answers 412 ConditionNotMet)"},
		"expiresAt": map[string]any{"type": "string", "format": "date-time"},
	},
}

func operations() []operation {
	return []operation{
		{method: "GET", path: "/healthz", tag: "ops", summary: "Liveness: the process serves HTTP", access: public, status: 200, resp: map[string]any{"type": "object", "properties": map[string]any{"status": map[string]any{"type": "string"}}}},
		{method: "GET", path: "/readyz", tag: "ops", summary: "Readiness: Firestore and Auth answer; 503 otherwise and while shutting down", access: public, status: 200, resp: readyResponse{},
			also: map[int]string{503: "Firestore or Auth does not answer, or the server is shutting down"}},
		{method: "GET", path: "/metrics", tag: "ops", summary: "Prometheus metrics (text format)", access: public, status: 200, resp: "text/plain"},
		{method: "GET", path: "/openapi.json", tag: "ops", summary: "This document", access: public, status: 200, resp: map[string]any{"type": "object"}},
		{method: "POST", path: "/events/*path", tag: "ops", summary: "CloudEvents from Eventarc (Firestore triggers) and Pub/Sub push (storage); only with events on (HEARTH_EVENTS), else 404", access: machine, body: map[string]any{"type": "object"}, status: 204, resp: nil},
		{method: "POST", path: "/schedulers/:name", tag: "ops", summary: "Run one scheduler (presence-sweeper, typing-cleanup) for Cloud Scheduler; only with events on (HEARTH_EVENTS), else 404", access: machine, status: 200, resp: map[string]any{"type": "object", "required": []string{"leased", "changed"}, "properties": map[string]any{
			"leased": map[string]any{"type": "boolean", "description": "false: another instance holds the scheduler's lease; nothing was done"}, "changed": map[string]any{"type": "integer"},
			"more": map[string]any{"type": "boolean", "description": "the run stopped at a page limit with work probably left"}}}},

		{method: "GET", path: "/v1/me", tag: "client", summary: "The caller, as the ID token says", access: userRead, status: 200, resp: meResponse{}},
		{method: "POST", path: "/v1/rooms", tag: "client", summary: "Create a group room; the caller is its owner", desc: "Writes the room, every member doc and a system message in one transaction.", access: userWrite, body: createRoomRequest{}, status: 201, resp: apiRoom{}},
		{method: "POST", path: "/v1/rooms/direct", tag: "client", summary: "The direct room of the caller and userId (201 created, 200 existing)", also: map[int]string{201: "Created"}, desc: "The room id is model.DirectRoomID of the pair: the same every time.", access: userWrite, body: directRoomRequest{}, status: 200, resp: apiRoom{},
			errs: map[int]string{404: "no user userId", 403: "a block between the two: no direct room (PERMISSION_DENIED, no reason given)"}},
		{method: "GET", path: "/v1/rooms/:roomId", tag: "client", summary: "A room the caller is a member of", access: userRead, status: 200, resp: apiRoom{}, roomScoped: true},
		{method: "POST", path: "/v1/rooms/:roomId/members", tag: "client", summary: "Add members (owners and admins of a group)", access: userWrite, body: addMembersRequest{}, status: 200, resp: addMembersResponse{}, roomScoped: true},
		{method: "PATCH", path: "/v1/rooms/:roomId/members/:uid", tag: "client", summary: "Change a member's role (owners)", access: userWrite, body: roleRequest{}, status: 200, resp: apiMember{}, roomScoped: true},
		{method: "DELETE", path: "/v1/rooms/:roomId/members/:uid", tag: "client", summary: "Leave (uid = caller) or remove a member (owners, admins)", access: userWrite, status: 204, roomScoped: true},
		{method: "POST", path: "/v1/rooms/:roomId/members/:uid/ban", tag: "moderation", summary: "Ban a member (owners, admins within their rank)", access: userWrite, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiMember{}, roomScoped: true},
		{method: "DELETE", path: "/v1/rooms/:roomId/members/:uid/ban", tag: "moderation", summary: "Lift a ban (owners, admins; not a ban set by a higher rank); the user can be added again", access: userWrite, body: reasonRequest{}, bodyOptional: true, status: 204, roomScoped: true},
		{method: "GET", path: "/v1/rooms/:roomId/messages", tag: "client", summary: "History, newest first, with cursor paging", access: userRead, query: []queryParam{{"before", "string", "nextCursor of the previous page (a message id)"}, qLimit, {"thread", "string", "a message id: page the replies to it (its thread) instead of the room"}}, status: 200, resp: messagePage{}, roomScoped: true},
		{method: "POST", path: "/v1/rooms/:roomId/messages/:messageId/redact", tag: "moderation", summary: "Redact a message (owners, admins; not a higher rank's message)", access: userWrite, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiMessage{}, roomScoped: true},
		{method: "POST", path: "/v1/rooms/:roomId/messages/:messageId/reports", tag: "safety", summary: "Report a message (members; once per message; 409 ALREADY_REPORTED, 429 beyond the hourly limit)", desc: "Reports of a message by HEARTH_REPORT_HIDE_THRESHOLD members hide it (hidden: true on the message).", access: userWrite, body: reportRequest{}, status: 201, resp: filedReportResponse{}, roomScoped: true},
		{method: "GET", path: "/v1/me/blocks", tag: "safety", summary: "The caller's blocks, newest first", access: userRead, query: []queryParam{qLimit, qPageToken}, status: 200, resp: blockPage{}},
		{method: "PUT", path: "/v1/me/blocks/:uid", tag: "safety", summary: "Block a user (201 new, 200 already blocked)", access: userWrite, status: 201, resp: apiBlock{}, also: map[int]string{200: "Already blocked"},
			errs: map[int]string{409: "the uid is the caller's own (SELF_ACTION)"}},
		{method: "DELETE", path: "/v1/me/blocks/:uid", tag: "safety", summary: "Lift a block (204 whether or not there was one)", access: userWrite, status: 204},
		{method: "PUT", path: "/v1/devices/:deviceId", tag: "client", summary: "Register the caller's device for push; the token moves from any other registration", access: userWrite, body: deviceRequest{}, status: 200, resp: apiDevice{}},
		{method: "DELETE", path: "/v1/devices/:deviceId", tag: "client", summary: "Unregister the caller's device", access: userWrite, status: 204},
		{method: "POST", path: "/v1/uploads", tag: "media", summary: "A signed upload URL for media (members only); 413 over the type's size limit, 429 over the daily quota", access: userWrite, body: uploadRequestSchema, status: 201, resp: uploadResponseSchema, roomScoped: true},
		{method: "GET", path: "/v1/media/*objectPath", tag: "media", summary: "302 to a short-lived signed download URL (members only)", access: userRead, query: []queryParam{{"thumb", "string", "1 for the thumbnail"}}, status: 302, roomScoped: true,
			errs: map[int]string{409: "the media is still being checked (MEDIA_NOT_READY)"}},

		{method: "GET", path: "/admin/v1/users", tag: "admin", summary: "List Auth users, paged; or find one by email", access: adminOnly, query: []queryParam{qLimit, qPageToken, {"email", "string", "exact email address"}}, status: 200, resp: struct {
			Users         []apiUser `json:"users"`
			NextPageToken string    `json:"nextPageToken,omitempty"`
		}{}},
		{method: "GET", path: "/admin/v1/users/:uid", tag: "admin", summary: "A user: Auth record, profile, device count", access: adminOnly, status: 200, resp: userDetail{}},
		{method: "DELETE", path: "/admin/v1/users/:uid", tag: "admin", summary: "Erase a user and their data; their messages are kept, anonymised", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: eraseResult{}},
		{method: "POST", path: "/admin/v1/users/:uid/disable", tag: "admin", summary: "Disable a user", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiUser{}},
		{method: "POST", path: "/admin/v1/users/:uid/enable", tag: "admin", summary: "Enable a user", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiUser{}},
		{method: "PUT", path: "/admin/v1/users/:uid/claims", tag: "admin", summary: "Replace a user's custom claims", access: adminOnly, body: claimsRequest{}, status: 200, resp: apiUser{}},
		{method: "POST", path: "/admin/v1/users/:uid/revoke-tokens", tag: "admin", summary: "Revoke a user's refresh tokens", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiUser{}},
		{method: "GET", path: "/admin/v1/rooms", tag: "admin", summary: "List rooms, newest first", access: adminOnly, query: []queryParam{qLimit, qPageToken, {"archived", "boolean", "only archived (true) or live (false) rooms"}, {"type", "string", "direct or group"}}, status: 200, resp: struct {
			Rooms         []apiRoom `json:"rooms"`
			NextPageToken string    `json:"nextPageToken,omitempty"`
		}{}},
		{method: "GET", path: "/admin/v1/rooms/:roomId", tag: "admin", summary: "Any room with its full roster", access: adminOnly, status: 200, resp: apiRoom{}},
		{method: "DELETE", path: "/admin/v1/rooms/:roomId", tag: "admin", summary: "Delete a room recursively", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 204},
		{method: "POST", path: "/admin/v1/rooms/:roomId/archive", tag: "admin", summary: "Archive a room (read-only)", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiRoom{}},
		{method: "POST", path: "/admin/v1/rooms/:roomId/unarchive", tag: "admin", summary: "Unarchive a room", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiRoom{}},
		{method: "POST", path: "/admin/v1/rooms/:roomId/messages/:messageId/redact", tag: "admin", summary: "Redact any message", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiMessage{}},
		{method: "POST", path: "/admin/v1/rooms/:roomId/members/:uid/ban", tag: "admin", summary: "Ban any member of any room", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 200, resp: apiMember{}},
		{method: "DELETE", path: "/admin/v1/rooms/:roomId/members/:uid/ban", tag: "admin", summary: "Lift a ban", access: adminOnly, body: reasonRequest{}, bodyOptional: true, status: 204},
		{method: "GET", path: "/admin/v1/reports", tag: "admin", summary: "The moderation queue: one entry per reported message, oldest first reported first", access: adminOnly, query: []queryParam{{"status", "string", "open (default) or resolved"}, {"roomId", "string", "only this room"}, {"reason", "string", "spam, abuse, harassment, nudity or other"}, {"olderThan", "string", "RFC 3339: first reported before it"}, qLimit, qPageToken}, status: 200, resp: reportPage{}},
		{method: "POST", path: "/admin/v1/reports/:id/resolve", tag: "admin", summary: "Resolve a queue entry: dismiss (show the message again), redact the message or ban the sender; audited (report.dismiss|redact|ban)", access: adminOnly, body: resolveRequest{}, status: 200, resp: reportResponse{}},
		{method: "GET", path: "/admin/v1/audit", tag: "admin", summary: "The audit log, newest first", access: adminOnly, query: []queryParam{qLimit, qPageToken, {"actor", "string", "actor uid"}, {"action", "string", "e.g. member.ban"}, {"since", "string", "RFC 3339 time: entries at or after it"}, {"until", "string", "RFC 3339 time: entries before it"}}, status: 200, resp: struct {
			Entries       []apiAuditEntry `json:"entries"`
			NextPageToken string          `json:"nextPageToken,omitempty"`
		}{}},
		{method: "GET", path: "/admin/v1/stats", tag: "admin", summary: "Document counts", access: adminOnly, status: 200, resp: statsResponse{}},
		{method: "GET", path: "/admin/v1/overview", tag: "admin", summary: "The console's overview: messages per day, active users, pushes, digest queue, rejected media, trigger lag (null: not recorded by this process)", access: adminOnly, status: 200, resp: overviewResponse{}},
		{method: "GET", path: "/console", tag: "console", summary: "Redirects to /console/", access: public, status: 301},
		{method: "GET", path: "/console/*path", tag: "console", summary: "The web console's pages, scripts and config.json (docs/console.md); strict Content-Security-Policy", access: public, status: 200,
			errsText: true, errs: map[int]string{404: "no such file of the console"}},
	}
}

// openAPIPath turns a Gin path into an OpenAPI one: ":id" and "*rest"
// become "{id}" and "{rest}".
func openAPIPath(ginPath string) string {
	segs := strings.Split(ginPath, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// schemaGen derives JSON schemas from Go types into components.schemas.
type schemaGen struct {
	schemas map[string]any
}

// enums are the allowed values of the model's string types.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[model.Role]():         strs(model.Roles()),
	reflect.TypeFor[model.RoomType]():     strs(model.RoomTypes()),
	reflect.TypeFor[model.MessageType]():  strs(model.MessageTypes()),
	reflect.TypeFor[model.MediaStatus]():  strs(model.MediaStatuses()),
	reflect.TypeFor[model.Platform]():     strs(model.Platforms()),
	reflect.TypeFor[model.ReportReason](): strs(model.ReportReasons()),
	reflect.TypeFor[model.ReportStatus](): {string(model.ReportOpen), string(model.ReportResolved)},
	reflect.TypeFor[model.ReportAction](): strs(model.ReportActions()),
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// schemaNames names the schemas of the API types.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[apiRoom]():             "Room",
	reflect.TypeFor[apiLastMessage]():      "LastMessage",
	reflect.TypeFor[apiMember]():           "Member",
	reflect.TypeFor[apiMessage]():          "Message",
	reflect.TypeFor[apiMedia]():            "Media",
	reflect.TypeFor[messagePage]():         "MessagePage",
	reflect.TypeFor[apiDevice]():           "Device",
	reflect.TypeFor[deviceRequest]():       "DeviceRequest",
	reflect.TypeFor[createRoomRequest]():   "CreateRoomRequest",
	reflect.TypeFor[directRoomRequest]():   "DirectRoomRequest",
	reflect.TypeFor[addMembersRequest]():   "AddMembersRequest",
	reflect.TypeFor[addMembersResponse]():  "AddMembersResponse",
	reflect.TypeFor[roleRequest]():         "RoleRequest",
	reflect.TypeFor[reasonRequest]():       "ReasonRequest",
	reflect.TypeFor[claimsRequest]():       "ClaimsRequest",
	reflect.TypeFor[apiUser]():             "User",
	reflect.TypeFor[apiProfile]():          "Profile",
	reflect.TypeFor[userDetail]():          "UserDetail",
	reflect.TypeFor[eraseResult]():         "EraseResult",
	reflect.TypeFor[apiAuditEntry]():       "AuditEntry",
	reflect.TypeFor[statsResponse]():       "Stats",
	reflect.TypeFor[overviewResponse]():    "Overview",
	reflect.TypeFor[dayCount]():            "DayCount",
	reflect.TypeFor[digestQueue]():         "DigestQueue",
	reflect.TypeFor[meResponse]():          "Me",
	reflect.TypeFor[readyResponse]():       "Ready",
	reflect.TypeFor[ErrorBody]():           "Error",
	reflect.TypeFor[ErrorInfo]():           "ErrorInfo",
	reflect.TypeFor[FieldIssue]():          "FieldIssue",
	reflect.TypeFor[reportRequest]():       "ReportRequest",
	reflect.TypeFor[apiFiledReport]():      "FiledReport",
	reflect.TypeFor[filedReportResponse](): "FiledReportResponse",
	reflect.TypeFor[apiReport]():           "Report",
	reflect.TypeFor[apiResolution]():       "ReportResolution",
	reflect.TypeFor[reportPage]():          "ReportPage",
	reflect.TypeFor[reportResponse]():      "ReportResponse",
	reflect.TypeFor[resolveRequest]():      "ResolveRequest",
	reflect.TypeFor[apiBlock]():            "Block",
	reflect.TypeFor[blockPage]():           "BlockPage",
}

// schema returns the schema of t, a $ref for named API types.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		return g.schema(t.Elem())
	}
	if t == reflect.TypeFor[time.Time]() {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object", "additionalProperties": true}
		}
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name, named := schemaNames[t]
		if named {
			if _, done := g.schemas[name]; done {
				return map[string]any{"$ref": "#/components/schemas/" + name}
			}
			g.schemas[name] = map[string]any{} // placeholder against recursion
		}
		s := g.object(t)
		if !named {
			return s
		}
		g.schemas[name] = s
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// object is the schema of a struct: its json fields; those without
// omitempty/omitzero are required.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs := g.schema(f.Type)
		omitted := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		if !omitted {
			required = append(required, name)
			if f.Type.Kind() == reflect.Pointer {
				// encoding/json writes a nil pointer as null. OpenAPI 3.0 ignores
				// the siblings of a $ref, so a nullable reference wraps it.
				if _, ref := fs["$ref"]; ref {
					fs = map[string]any{"allOf": []any{fs}}
				}
				fs["nullable"] = true
			}
		}
		props[name] = fs
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return s
}

// bodySchema is the schema of a request or response value: a Go value
// (its type), a schema map as is.
func (g *schemaGen) bodySchema(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return g.schema(reflect.TypeOf(v))
}

func errorResponse(desc string) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
}

// openAPISpec renders the document.
func (s *Server) openAPISpec() ([]byte, error) {
	g := &schemaGen{schemas: map[string]any{}}
	g.schema(reflect.TypeFor[ErrorBody]())
	paths := map[string]map[string]any{}
	for _, op := range operations() {
		p := openAPIPath(op.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		o := map[string]any{
			"summary":     op.summary,
			"tags":        []string{op.tag},
			"operationId": operationID(op),
		}
		if op.desc != "" {
			o["description"] = op.desc
		}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
				params = append(params, map[string]any{"name": seg[1:], "in": "path", "required": true,
					"schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.desc,
				"schema": map[string]any{"type": q.typ}})
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = map[string]any{"required": !op.bodyOptional, "content": map[string]any{
				"application/json": map[string]any{"schema": g.bodySchema(op.body)}}}
		}
		resp := map[string]any{}
		success := map[string]any{"description": http.StatusText(op.status)}
		switch r := op.resp.(type) {
		case nil:
		case string:
			success["content"] = map[string]any{r: map[string]any{"schema": map[string]any{"type": "string"}}}
		default:
			success["content"] = map[string]any{"application/json": map[string]any{"schema": g.bodySchema(r)}}
		}
		if op.status == http.StatusFound {
			success["headers"] = map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		resp[strconv.Itoa(op.status)] = success
		for code, desc := range op.also {
			resp[strconv.Itoa(code)] = map[string]any{"description": desc, "content": success["content"]}
		}
		switch op.access {
		case userRead, userWrite:
			o["security"] = []any{map[string]any{"firebaseIdToken": []string{}, "appCheck": []string{}}, map[string]any{"firebaseIdToken": []string{}}}
			resp["401"] = errorResponse("no valid ID token (reason says why), or no valid App Check token in enforce mode")
			resp["429"] = errorResponse("rate limited; see Retry-After")
			resp["503"] = errorResponse("the Auth backend or Firestore is unavailable")
		case adminOnly:
			o["security"] = []any{map[string]any{"firebaseIdToken": []string{}}}
			resp["401"] = errorResponse("no valid ID token (reason says why)")
			resp["403"] = errorResponse("the token lacks the custom claim admin: true")
			resp["429"] = errorResponse("rate limited; see Retry-After")
			resp["503"] = errorResponse("the Auth backend or Firestore is unavailable")
		case machine:
			o["security"] = []any{map[string]any{"googleOidcToken": []string{}}}
			resp["401"] = errorResponse("no valid Google-signed OIDC ID token for this service's audience")
			resp["403"] = errorResponse("the token's service account is not allowed (HEARTH_EVENTS_SERVICE_ACCOUNTS)")
			resp["404"] = errorResponse("events are off on this server (HEARTH_EVENTS), or no such trigger or scheduler")
			resp["501"] = errorResponse("this server has no handler for the route")
		case public:
			o["security"] = []any{}
		}
		if op.access == adminOnly || op.access == userRead || op.access == userWrite {
			resp["400"] = errorResponse("invalid path, query or body (fields lists the problems)")
		}
		if (op.roomScoped || strings.Contains(op.path, ":")) && op.access != machine {
			resp["404"] = errorResponse("not found (for room routes: the room does not exist or the caller is not a member)")
		}
		if op.access == userWrite && op.roomScoped {
			resp["403"] = errorResponse("the caller's role in the room does not allow this (ROLE_INSUFFICIENT), or a ban's setter or a message's author outranks the caller (INSUFFICIENT_RANK)")
			resp["409"] = errorResponse("failed precondition: archived room, direct room, last owner, banned user, full room")
		}
		if op.access == adminOnly && op.method != http.MethodGet {
			resp["409"] = errorResponse("failed precondition: the admin's own account (SELF_ACTION), or the room's or member's state does not allow it")
		}
		// Every route refuses a body over its limit, whatever the method.
		resp["413"] = errorResponse("body too large")
		if op.body != nil && op.access != machine {
			resp["415"] = errorResponse("Content-Type is not application/json")
		}
		for code, desc := range op.errs {
			if op.errsText {
				resp[strconv.Itoa(code)] = map[string]any{"description": desc,
					"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
				continue
			}
			resp[strconv.Itoa(code)] = errorResponse(desc)
		}
		// Any operation may fail unexpectedly (a panic, a backend error not mapped).
		resp["500"] = errorResponse("internal error (the requestId is in the server's log)")
		if op.status == 204 {
			delete(success, "content")
		}
		o["responses"] = resp
		paths[p][strings.ToLower(op.method)] = o
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Hearth API",
			"version":     "1",
			"description": "Rooms, members, history, devices and administration for Firebase chat apps. Every /v1 and /admin/v1 call needs Authorization: Bearer <Firebase ID token>. Errors are {\"error\": {\"code\", \"message\", \"reason\"?, \"fields\"?, \"requestId\"}}.",
		},
		"servers": []any{map[string]any{"url": "http://127.0.0.1:8088", "description": "make dev"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"firebaseIdToken": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "Firebase ID token (JWT)"},
				"appCheck":        map[string]any{"type": "apiKey", "in": "header", "name": AppCheckHeader},
				"googleOidcToken": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "Google-signed OIDC ID token of a service account (Eventarc, Pub/Sub push, Cloud Scheduler)"},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// operationID is e.g. "post_v1_rooms_roomId_members".
func operationID(op operation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.method))
	for _, seg := range strings.Split(op.path, "/") {
		seg = strings.TrimLeft(seg, ":*")
		if seg == "" {
			continue
		}
		b.WriteByte('_')
		b.WriteString(strings.ReplaceAll(seg, "-", "_"))
	}
	return strings.ReplaceAll(b.String(), ".", "_")
}

// openAPI serves the document.
func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", s.spec)
}
