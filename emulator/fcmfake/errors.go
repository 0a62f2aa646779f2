package fcmfake

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Detail types the FCM backend puts in error.details. The Admin SDK reads the FcmError
// errorCode to answer messaging.IsUnregistered and friends; the BadRequest detail carries
// the field that was wrong.
const (
	fcmErrorType   = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
	badRequestType = "type.googleapis.com/google.rpc.BadRequest"
)

// invalidTokenMessage is the text FCM uses for a malformed or foreign registration token.
// Hearth's token pruning looks for "registration token" in it.
const invalidTokenMessage = "The registration token is not a valid FCM registration token"

// errorBody is the google.rpc.Status JSON envelope of every error response.
type errorBody struct {
	Error errorStatus `json:"error"`
}

type errorStatus struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Status  string        `json:"status"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorDetail struct {
	Type            string           `json:"@type"`
	ErrorCode       string           `json:"errorCode,omitempty"`
	FieldViolations []fieldViolation `json:"fieldViolations,omitempty"`
}

type fieldViolation struct {
	Field       string `json:"field,omitempty"`
	Description string `json:"description"`
}

// fcmStatus describes one FCM error as the HTTP v1 API reports it.
type fcmStatus struct {
	message   string // error.message
	status    string // error.status, the generic google.rpc code
	errorCode string // FcmError.errorCode; empty for errors that are not FCM's own
	field     string // BadRequest field violation, if any
}

// fcmStatuses maps the HTTP status of an injected or token error to its body. The pairs
// status/errorCode are those the real FCM v1 API answers; 401 is FCM's THIRD_PARTY_AUTH_ERROR.
func fcmStatuses() map[int]fcmStatus {
	return map[int]fcmStatus{
		http.StatusBadRequest:          {invalidTokenMessage, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.token"},
		http.StatusUnauthorized:        {"Auth error from APNS or Web Push Service", "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", ""},
		http.StatusForbidden:           {"SenderId mismatch", "PERMISSION_DENIED", "SENDER_ID_MISMATCH", ""},
		http.StatusNotFound:            {"Requested entity was not found.", "NOT_FOUND", "UNREGISTERED", ""},
		http.StatusTooManyRequests:     {"Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.", "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", ""},
		http.StatusInternalServerError: {"Internal error encountered.", "INTERNAL", "INTERNAL", ""},
		http.StatusServiceUnavailable:  {"The service is currently unavailable.", "UNAVAILABLE", "UNAVAILABLE", ""},
	}
}

// encodeStatus renders the body for an FCM error. Statuses without an FCM meaning (502, 504,
// ...) get a generic body with no details, as a proxy in front of FCM would.
func encodeStatus(code int, st fcmStatus) []byte {
	if st.status == "" {
		st = fcmStatus{message: http.StatusText(code), status: "UNKNOWN"}
	}
	body := errorBody{Error: errorStatus{Code: code, Message: st.message, Status: st.status}}
	if st.errorCode != "" {
		body.Error.Details = append(body.Error.Details, errorDetail{Type: fcmErrorType, ErrorCode: st.errorCode})
	}
	if st.field != "" {
		body.Error.Details = append(body.Error.Details, errorDetail{
			Type:            badRequestType,
			FieldViolations: []fieldViolation{{Field: st.field, Description: st.message}},
		})
	}
	return mustMarshal(body)
}

// cannedError is a pre-rendered error response.
type cannedError struct {
	status    int
	errorCode string // FcmError code, "" when the body has none
	body      []byte
}

// newCannedError renders the response for an HTTP status once, so that failing a request
// costs no encoding.
func newCannedError(code int) cannedError {
	st := fcmStatuses()[code]
	return cannedError{status: code, errorCode: st.errorCode, body: encodeStatus(code, st)}
}

// payloadError is a 400 INVALID_ARGUMENT caused by the request body rather than the token.
type payloadError struct {
	field   string // BadRequest field, e.g. "message.data"
	message string
	// fcm says whether FCM itself rejected the message (FcmError INVALID_ARGUMENT detail, so
	// messaging.IsInvalidArgument is true) or the API front end rejected the JSON before FCM
	// saw it (only a BadRequest detail, as Google APIs answer "Invalid JSON payload received").
	fcm bool
}

func (e *payloadError) body() []byte {
	st := fcmStatus{message: e.message, status: "INVALID_ARGUMENT", field: e.field}
	if e.fcm {
		st.errorCode = "INVALID_ARGUMENT"
	}
	if st.field == "" {
		// Google always names a field in a BadRequest detail, the request itself at worst.
		st.field = "message"
	}
	return encodeStatus(http.StatusBadRequest, st)
}

// invalidJSON is the front end's answer to a body that does not parse as the Send request.
func invalidJSON(field, detail string) *payloadError {
	return &payloadError{field: field, message: "Invalid JSON payload received. " + detail}
}

// invalidMessage is FCM's own answer to a well-formed message it refuses.
func invalidMessage(field, message string) *payloadError {
	return &payloadError{field: field, message: message, fcm: true}
}

// writeJSON writes a ready-made JSON body.
func writeJSON(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// mustMarshal encodes values whose types cannot fail to encode (no channels, funcs or
// cyclic data), so an error here is a programming mistake.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("fcmfake: encode " + err.Error())
	}
	return b
}
