package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"firebase.google.com/go/v4/auth"
	"firebase.google.com/go/v4/errorutils"
	"github.com/gin-gonic/gin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/blocks"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/reports"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// The error codes of the JSON error shape (docs/api.md): the
// canonical Google API status names, plus PAYLOAD_TOO_LARGE for 413.
const (
	CodeInvalidArgument    = "INVALID_ARGUMENT"
	CodeUnauthenticated    = "UNAUTHENTICATED"
	CodePermissionDenied   = "PERMISSION_DENIED"
	CodeNotFound           = "NOT_FOUND"
	CodeAlreadyExists      = "ALREADY_EXISTS"
	CodeFailedPrecondition = "FAILED_PRECONDITION"
	CodePayloadTooLarge    = "PAYLOAD_TOO_LARGE"
	CodeResourceExhausted  = "RESOURCE_EXHAUSTED"
	CodeInternal           = "INTERNAL"
	CodeUnavailable        = "UNAVAILABLE"
	CodeNotImplemented     = "NOT_IMPLEMENTED"
)

// Reasons refine a code where a client acts differently on them. Every 401
// carries one, so an app knows whether to refresh the token (TOKEN_EXPIRED),
// sign the user in again (TOKEN_REVOKED, TOKEN_INVALID) or tell them their
// account is gone (USER_DISABLED, USER_NOT_FOUND).
const (
	ReasonTokenMissing      = "TOKEN_MISSING"
	ReasonTokenInvalid      = "TOKEN_INVALID"
	ReasonTokenExpired      = "TOKEN_EXPIRED"
	ReasonTokenRevoked      = "TOKEN_REVOKED"
	ReasonUserDisabled      = "USER_DISABLED"
	ReasonUserNotFound      = "USER_NOT_FOUND"
	ReasonAppCheckMissing   = "APP_CHECK_TOKEN_MISSING"
	ReasonAppCheckInvalid   = "APP_CHECK_TOKEN_INVALID"
	ReasonAuthUnavailable   = "AUTH_BACKEND_UNAVAILABLE"
	ReasonAdminRequired     = "ADMIN_CLAIM_REQUIRED"
	ReasonRateLimited       = "RATE_LIMITED"
	ReasonRoomArchived      = "ROOM_ARCHIVED"
	ReasonUserBanned        = "USER_BANNED"
	ReasonUnsupportedMedia  = "UNSUPPORTED_MEDIA_TYPE"
	ReasonRoleInsufficient  = "ROLE_INSUFFICIENT"
	ReasonInsufficientRank  = "INSUFFICIENT_RANK"
	ReasonDirectRoomFixed   = "DIRECT_ROOM_MEMBERSHIP_FIXED"
	ReasonLastOwner         = "LAST_OWNER"
	ReasonRoomFull          = "ROOM_FULL"
	ReasonSelfAction        = "SELF_ACTION"
	ReasonNotBanned         = "NOT_BANNED"
	ReasonEventsUnavailable = "EVENTS_NOT_CONFIGURED"
	ReasonAlreadyReported   = "ALREADY_REPORTED"
	ReasonNotReportable     = "MESSAGE_NOT_REPORTABLE"
	ReasonReportResolved    = "REPORT_RESOLVED"
)

// ctxErrorReason holds the reason (or code) of the error response, for the
// access log.
const ctxErrorReason = "hearth.errorReason"

// ErrorBody is the JSON of every error response:
// {"error": {"code": ..., "message": ..., "reason"?, "fields"?, "requestId"?}}.
type ErrorBody struct {
	Error ErrorInfo `json:"error"`
}

// ErrorInfo is the inside of ErrorBody.
type ErrorInfo struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Reason    string       `json:"reason,omitempty"`
	Fields    []FieldIssue `json:"fields,omitempty"`
	RequestID string       `json:"requestId,omitempty"`
}

// FieldIssue names one invalid field of a request (from a
// model.ValidationError or a decoding error).
type FieldIssue struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// apiError is an error with its HTTP status and JSON code. Handlers return
// it (or any error) through fail; errorMiddleware renders it.
type apiError struct {
	status  int
	code    string
	reason  string
	message string
	fields  []FieldIssue
	// retryAfter is sent as Retry-After (seconds) when positive.
	retryAfterSeconds int
	// cause is logged, never sent.
	cause error
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *apiError) Unwrap() error { return e.cause }

// withCause sets the cause (logged, never sent) and returns e.
func (e *apiError) withCause(err error) *apiError {
	e.cause = err
	return e
}

func newError(status int, code, reason, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, reason: reason, message: fmt.Sprintf(format, args...)}
}

func errInvalid(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, CodeInvalidArgument, "", format, args...)
}

func errNotFound(format string, args ...any) *apiError {
	return newError(http.StatusNotFound, CodeNotFound, "", format, args...)
}

func errDenied(reason, format string, args ...any) *apiError {
	return newError(http.StatusForbidden, CodePermissionDenied, reason, format, args...)
}

func errPrecondition(reason, format string, args ...any) *apiError {
	return newError(http.StatusConflict, CodeFailedPrecondition, reason, format, args...)
}

func errUnauthenticated(reason, format string, args ...any) *apiError {
	return newError(http.StatusUnauthorized, CodeUnauthenticated, reason, format, args...)
}

// fieldsError is a 400 listing invalid fields.
func fieldsError(message string, fields ...FieldIssue) *apiError {
	e := errInvalid("%s", message)
	e.fields = fields
	return e
}

// fail records err on c and stops the handler chain; errorMiddleware writes
// the response.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// toAPIError maps any error to the API error it is answered with. Unknown
// errors become 500 INTERNAL with a generic message (the cause is logged).
// Firestore's FailedPrecondition is one of them on purpose: it mostly means
// "this query needs an index", a deployment bug, not the client's 409.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if de := domainError(err); de != nil {
		return de.withCause(err)
	}
	var ve *model.ValidationError
	if errors.As(err, &ve) {
		return fieldsError("invalid request", fieldIssues(ve.Fields)...).withCause(err)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
			message: fmt.Sprintf("request body larger than %d bytes", mbe.Limit), cause: err}
	}
	wrap := func(status int, code, msg string) *apiError {
		return &apiError{status: status, code: code, message: msg, cause: err}
	}
	// The Firebase predicates only recognise the SDK's own error value, not
	// one wrapped with context: try each error of the chain.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ae := firebaseError(e); ae != nil {
			ae.cause = err
			return ae
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return wrap(http.StatusServiceUnavailable, CodeUnavailable, "the request took too long; try again")
	case errors.Is(err, context.Canceled):
		// The client went away; the status is for the logs only.
		return wrap(499, CodeUnavailable, "request canceled")
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		switch s.Code() {
		case codes.NotFound:
			return wrap(http.StatusNotFound, CodeNotFound, "not found")
		case codes.AlreadyExists:
			return wrap(http.StatusConflict, CodeAlreadyExists, "already exists")
		case codes.Aborted:
			return wrap(http.StatusConflict, CodeFailedPrecondition, "conflicting change; try again")
		case codes.Unavailable, codes.DeadlineExceeded:
			return wrap(http.StatusServiceUnavailable, CodeUnavailable, "a backend is unavailable; try again")
		case codes.ResourceExhausted:
			return wrap(http.StatusServiceUnavailable, CodeUnavailable, "a backend quota is exhausted; try again later")
		}
	}
	return wrap(http.StatusInternalServerError, CodeInternal, "internal error")
}

// domainError maps the typed errors of internal/rooms and internal/accounts
// to the API's, or returns nil.
func domainError(err error) *apiError {
	if e := safetyError(err); e != nil {
		return e
	}
	var (
		role    *rooms.RoleError
		rank    *rooms.RankError
		full    *rooms.RoomFullError
		banned  *rooms.BannedUsersError
		unknown *rooms.UnknownUsersError
		nouser  *rooms.UserNotFoundError
	)
	switch {
	case errors.Is(err, rooms.ErrNotFound), errors.Is(err, rooms.ErrNotMember):
		// A non-member cannot tell a room they are not in from one that does
		// not exist (direct room ids can be computed from two uids).
		return errRoomNotFound()
	case errors.Is(err, rooms.ErrMemberNotFound):
		return errNotFound("member not found")
	case errors.Is(err, rooms.ErrMessageNotFound):
		return errNotFound("message not found")
	case errors.Is(err, rooms.ErrNotBanned):
		return newError(http.StatusNotFound, CodeNotFound, ReasonNotBanned, "%s", rooms.ErrNotBanned)
	case errors.Is(err, rooms.ErrArchived):
		return errPrecondition(ReasonRoomArchived, "%s", rooms.ErrArchived)
	case errors.Is(err, rooms.ErrDirectRoomFixed):
		return errPrecondition(ReasonDirectRoomFixed, "%s", rooms.ErrDirectRoomFixed)
	case errors.Is(err, rooms.ErrLastOwner):
		return errPrecondition(ReasonLastOwner, "%s", rooms.ErrLastOwner)
	case errors.Is(err, rooms.ErrSelfBan):
		return errPrecondition(ReasonSelfAction, "%s", rooms.ErrSelfBan)
	case errors.Is(err, accounts.ErrSelfAction):
		return errPrecondition(ReasonSelfAction, "%s", accounts.ErrSelfAction)
	case errors.Is(err, rooms.ErrBannedFromDirect):
		return errDenied(ReasonUserBanned, "%s", rooms.ErrBannedFromDirect)
	case errors.Is(err, rooms.ErrLeftDirect):
		return errDenied("", "%s", rooms.ErrLeftDirect)
	case errors.Is(err, rooms.ErrDirectRefused):
		return errDenied("", "%s", rooms.ErrDirectRefused)
	case errors.Is(err, rooms.ErrCallerUnknown):
		return errUnauthenticated(ReasonUserNotFound, "%s", rooms.ErrCallerUnknown)
	case errors.As(err, &role):
		return errDenied(ReasonRoleInsufficient, "%s", role)
	case errors.As(err, &rank):
		return errDenied(ReasonInsufficientRank, "%s", rank)
	case errors.As(err, &full):
		return errPrecondition(ReasonRoomFull, "%s", full)
	case errors.As(err, &banned):
		e := errPrecondition(ReasonUserBanned, "%s", banned)
		e.fields = fieldIssues(banned.Fields)
		return e
	case errors.As(err, &unknown):
		return fieldsError(unknown.Error(), fieldIssues(unknown.Fields)...)
	case errors.As(err, &nouser):
		return errNotFound("%s", nouser)
	}
	return nil
}

// fieldIssues converts the model's field errors to the API's.
func fieldIssues(fs []model.FieldError) []FieldIssue {
	out := make([]FieldIssue, len(fs))
	for i, f := range fs {
		out[i] = FieldIssue{Field: f.Field, Reason: f.Reason}
	}
	return out
}

// firebaseError maps an error of the Firebase Admin SDK (Auth); Firestore's
// errors are gRPC statuses, handled in toAPIError.
func firebaseError(err error) *apiError {
	mk := func(status int, code, msg string) *apiError {
		return &apiError{status: status, code: code, message: msg}
	}
	switch {
	case auth.IsUserNotFound(err):
		return mk(http.StatusNotFound, CodeNotFound, "user not found")
	case errorutils.IsUnavailable(err), errorutils.IsDeadlineExceeded(err):
		return mk(http.StatusServiceUnavailable, CodeUnavailable, "a backend is unavailable; try again")
	case errorutils.IsInvalidArgument(err):
		return mk(http.StatusBadRequest, CodeInvalidArgument, "the backend refused the request as invalid")
	case errorutils.IsNotFound(err):
		return mk(http.StatusNotFound, CodeNotFound, "not found")
	case errorutils.IsAlreadyExists(err), errorutils.IsConflict(err):
		return mk(http.StatusConflict, CodeAlreadyExists, "already exists")
	}
	return nil
}

// writeError renders err as the JSON error shape.
func writeError(c *gin.Context, err error) {
	ae := toAPIError(err)
	if ae.retryAfterSeconds > 0 {
		c.Header("Retry-After", fmt.Sprint(ae.retryAfterSeconds))
	}
	if ae.status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="hearth"`)
	}
	if ae.reason != "" {
		c.Set(ctxErrorReason, ae.reason)
	} else {
		c.Set(ctxErrorReason, ae.code)
	}
	status := ae.status
	if status == 499 { // nobody reads it; keep the status a real one
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, ErrorBody{Error: ErrorInfo{
		Code: ae.code, Message: ae.message, Reason: ae.reason, Fields: ae.fields,
		RequestID: requestID(c),
	}})
}

// errorMiddleware renders the first error a handler recorded with fail,
// unless the handler already wrote a response. 5xx causes are logged with
// the request id.
func (s *Server) errorMiddleware(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 {
		return
	}
	err := c.Errors[0].Err
	ae := toAPIError(err)
	if ae.status >= 500 && ae.status != 499 {
		s.log.ErrorContext(c.Request.Context(), "request failed",
			"requestId", requestID(c), "route", c.FullPath(), "error", err)
	}
	if c.Writer.Written() {
		return
	}
	writeError(c, err)
}

// recoverMiddleware turns a panic into 500 INTERNAL and logs the stack.
// http.ErrAbortHandler is re-raised, as net/http expects.
func (s *Server) recoverMiddleware(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			panic(r)
		}
		s.log.ErrorContext(c.Request.Context(), "panic", "requestId", requestID(c),
			"route", c.FullPath(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			writeError(c, newError(http.StatusInternalServerError, CodeInternal, "", "internal error"))
		}
		c.Abort()
	}()
	c.Next()
}

// safetyError maps the typed errors of internal/reports and internal/blocks,
// or returns nil.
func safetyError(err error) *apiError {
	var limit *reports.RateLimitError
	switch {
	case errors.Is(err, reports.ErrAlreadyReported):
		return newError(http.StatusConflict, CodeAlreadyExists, ReasonAlreadyReported, "%s", reports.ErrAlreadyReported)
	case errors.Is(err, reports.ErrOwnMessage):
		return errPrecondition(ReasonSelfAction, "%s", reports.ErrOwnMessage)
	case errors.Is(err, reports.ErrNotReportable):
		return errPrecondition(ReasonNotReportable, "%s", reports.ErrNotReportable)
	case errors.Is(err, reports.ErrNotFound):
		return errNotFound("%s", reports.ErrNotFound)
	case errors.Is(err, reports.ErrAlreadyResolved):
		return errPrecondition(ReasonReportResolved, "%s", reports.ErrAlreadyResolved)
	case errors.As(err, &limit):
		e := newError(http.StatusTooManyRequests, CodeResourceExhausted, ReasonRateLimited, "%s", limit)
		e.retryAfterSeconds = max(1, int(limit.RetryAfter.Seconds()+0.999))
		return e
	case errors.Is(err, blocks.ErrSelfBlock):
		return errPrecondition(ReasonSelfAction, "%s", blocks.ErrSelfBlock)
	}
	return nil
}
