package admin

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
)

// MemberListBodyBytes is the body limit of the routes that take a list of
// uids (POST /v1/rooms, POST /v1/rooms/{roomId}/members): MaxMembers ids of
// MaxIDLen characters, quoted and comma separated, plus room for the other
// fields.
const MemberListBodyBytes = model.MaxMembers*(model.MaxIDLen+3) + 8<<10

// ReasonBodyBytes is the body limit of the audited actions whose only body
// is the optional {"reason": ...}: MaxReasonLen characters, each at most 12
// bytes as JSON (a \uXXXX\uXXXX surrogate pair), plus the braces and key.
const ReasonBodyBytes = 8 << 10

// Paging limits of the list routes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// limitBodies is the router's first middleware: it caps every request body
// at its route's limit, limits["METHOD /full/path"] or def. A declared
// Content-Length above the limit is refused at once with 413, before any
// other middleware (token checks included) runs; a body that turns out
// longer (chunked, no declared length) fails with 413 as soon as byte
// limit+1 is read, and nothing past that byte is read.
func limitBodies(def int64, limits map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		n, ok := limits[c.Request.Method+" "+c.FullPath()]
		if !ok {
			n = def
		}
		if c.Request.ContentLength > n {
			fail(c, &apiError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
				message: fmt.Sprintf("request body larger than %d bytes", n)})
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
		c.Next()
	}
}

// decodeJSON reads the request body into dst (a pointer to a struct with
// json tags) strictly: the content type must be JSON (or absent), the body
// one JSON object with only known fields of the right types. Errors are 400
// INVALID_ARGUMENT with field issues, 413 or 415.
func decodeJSON(c *gin.Context, dst any) error {
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	return decodeBody(body, dst)
}

// decodeOptionalJSON is decodeJSON for a body that may be absent: it
// reports false, and leaves dst alone, when the body is empty.
func decodeOptionalJSON(c *gin.Context, dst any) (bool, error) {
	body, err := readJSONBody(c)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return false, err
	}
	return true, decodeBody(body, dst)
}

// readJSONBody checks the content type and reads the (size-limited) body.
func readJSONBody(c *gin.Context) ([]byte, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, newError(http.StatusUnsupportedMediaType, CodeInvalidArgument, ReasonUnsupportedMedia,
				"Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, toAPIError(err)
		}
		return nil, &apiError{status: http.StatusBadRequest, code: CodeInvalidArgument,
			message: "cannot read the request body", cause: err}
	}
	return body, nil
}

// decodeBody is decodeJSON without the request: the fuzzed part.
func decodeBody(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errInvalid("a JSON request body is required")
	}
	// First pass: one JSON object, and its keys.
	var fields map[string]json.RawMessage
	if err := strictUnmarshal(body, &fields); err != nil {
		return jsonError(err)
	}
	if fields == nil {
		return errInvalid("the request body must be a JSON object")
	}
	known := jsonFields(reflect.TypeOf(dst).Elem())
	var unknown []FieldIssue
	for k := range fields {
		if !known[k] {
			unknown = append(unknown, FieldIssue{Field: k, Reason: "unknown field"})
		}
	}
	if len(unknown) > 0 {
		slices.SortFunc(unknown, func(a, b FieldIssue) int { return cmp.Compare(a.Field, b.Field) })
		return fieldsError("the request has unknown fields", unknown...)
	}
	// Second pass: types, with nested unknown fields refused too.
	if err := strictUnmarshal(body, dst); err != nil {
		return jsonError(err)
	}
	return nil
}

// strictUnmarshal decodes exactly one JSON value, refusing unknown fields
// and trailing data.
func strictUnmarshal(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingData
	}
	return nil
}

var errTrailingData = errors.New("trailing data after the JSON value")

// jsonError turns a decoding error into a 400 with a field issue where the
// decoder says which field is wrong.
func jsonError(err error) *apiError {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	var e *apiError
	switch {
	case errors.As(err, &syn):
		e = errInvalid("malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		e = errInvalid("malformed JSON: unexpected end of the body")
	case errors.Is(err, errTrailingData):
		e = errInvalid("the body must hold exactly one JSON object")
	case errors.As(err, &typ) && typ.Field != "":
		e = fieldsError("a field has the wrong type", FieldIssue{Field: typ.Field, Reason: "must be " + jsonKind(typ.Type)})
	case errors.As(err, &typ):
		e = errInvalid("the request body must be a JSON object")
	default:
		e = errInvalid("the request body does not match the expected JSON object")
	}
	e.cause = err
	return e
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a " + t.String()
}

var jsonFieldCache sync.Map // reflect.Type -> map[string]bool

// jsonFields returns the top-level JSON keys of struct type t (its json
// tags, or field names). Matching is exact: encoding/json would also accept
// "Title" for "title", the API does not.
func jsonFields(t reflect.Type) map[string]bool {
	if v, ok := jsonFieldCache.Load(t); ok {
		return v.(map[string]bool)
	}
	out := make(map[string]bool)
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out[name] = true
		}
	}
	jsonFieldCache.Store(t, out)
	return out
}

// pathID validates the path parameter name as a document id (uid, message
// or device id).
func pathID(c *gin.Context, name string) (string, error) {
	v := c.Param(name)
	if err := model.ValidateID(name, v); err != nil {
		return "", err
	}
	return v, nil
}

// pathUID validates the uid path parameter.
func pathUID(c *gin.Context) (string, error) { return pathID(c, "uid") }

// pathRoomID validates the roomId path parameter.
func pathRoomID(c *gin.Context) (string, error) {
	v := c.Param("roomId")
	if err := model.ValidateRoomID("roomId", v); err != nil {
		return "", err
	}
	return v, nil
}

// pathInRoom validates the roomId path parameter, then the path parameter
// name as the id of a document in the room (a member's uid, a message id).
func pathInRoom(c *gin.Context, name string) (roomID, id string, err error) {
	if roomID, err = pathRoomID(c); err != nil {
		return "", "", err
	}
	if id, err = pathID(c, name); err != nil {
		return "", "", err
	}
	return roomID, id, nil
}

// pageSize parses ?limit= (default DefaultPageSize, 1..MaxPageSize).
func pageSize(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, fieldsError("invalid query", FieldIssue{Field: "limit", Reason: fmt.Sprintf("must be an integer 1..%d", MaxPageSize)})
	}
	return n, nil
}

// queryID validates an optional id query parameter (a cursor).
func queryID(c *gin.Context, name string) (string, error) {
	v := c.Query(name)
	if v == "" {
		return "", nil
	}
	if err := model.ValidateID(name, v); err != nil {
		return "", err
	}
	return v, nil
}

// queryTime parses an optional RFC 3339 time query parameter; the zero time
// when it is absent.
func queryTime(c *gin.Context, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || len(v) > 64 {
		return time.Time{}, fieldsError("invalid query", FieldIssue{Field: name, Reason: "must be an RFC 3339 time"})
	}
	return t, nil
}
