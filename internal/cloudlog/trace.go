package cloudlog

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// Trace is the trace context of one request.
type Trace struct {
	TraceID string // 32 lowercase hex digits
	SpanID  string // 16 lowercase hex digits
	Sampled bool
}

type traceKey struct{}

// ContextWithTrace returns ctx carrying t.
func ContextWithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFromContext returns the trace ContextWithTrace put in ctx.
func TraceFromContext(ctx context.Context) (Trace, bool) {
	t, ok := ctx.Value(traceKey{}).(Trace)
	return t, ok
}

// TraceFromHeader reads the W3C `traceparent` header or, when it is absent or invalid,
// Google's `X-Cloud-Trace-Context` (Cloud Run's front end sets both). Anything malformed
// is ignored: the header comes from the caller, and a bad one must not break the request
// or put arbitrary text into the logs.
func TraceFromHeader(h http.Header) (Trace, bool) {
	if t, ok := parseTraceparent(h.Get("traceparent")); ok {
		return t, true
	}
	return parseCloudTrace(h.Get("X-Cloud-Trace-Context"))
}

// WithRequestTrace returns r's context with the trace of r's headers, if any: the
// function an access-log or any other middleware calls before logging with
// slog.*Context(ctx, ...).
func WithRequestTrace(r *http.Request) context.Context {
	if t, ok := TraceFromHeader(r.Header); ok {
		return ContextWithTrace(r.Context(), t)
	}
	return r.Context()
}

// Middleware puts the request's trace into its context for the handlers after it.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithRequestTrace(r)))
	})
}

// parseTraceparent parses "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
// (W3C Trace Context). Versions above 00 may append fields after the flags.
func parseTraceparent(v string) (Trace, bool) {
	if len(v) < 55 || len(v) > 512 {
		return Trace{}, false
	}
	ver, traceID, spanID, flags := v[0:2], v[3:35], v[36:52], v[53:55]
	if v[2] != '-' || v[35] != '-' || v[52] != '-' || (len(v) > 55 && (ver == "00" || v[55] != '-')) {
		return Trace{}, false
	}
	if !isHex(ver) || ver == "ff" || !isHex(traceID) || !isHex(spanID) || !isHex(flags) ||
		allZero(traceID) || allZero(spanID) {
		return Trace{}, false
	}
	f, _ := strconv.ParseUint(flags, 16, 8)
	return Trace{TraceID: traceID, SpanID: spanID, Sampled: f&1 == 1}, true
}

// parseCloudTrace parses "TRACE_ID/SPAN_ID;o=OPTIONS": a 32 hex digit trace id, a
// decimal span id (written out as 16 hex digits, the form Cloud Logging's spanId takes),
// and o=1 when the request is sampled. The span and the options may be missing.
func parseCloudTrace(v string) (Trace, bool) {
	if v == "" || len(v) > 128 {
		return Trace{}, false
	}
	rest, opts, _ := strings.Cut(v, ";")
	traceID, span, hasSpan := strings.Cut(rest, "/")
	traceID = strings.ToLower(traceID)
	if len(traceID) != 32 || !isHex(traceID) || allZero(traceID) {
		return Trace{}, false
	}
	t := Trace{TraceID: traceID, Sampled: opts == "o=1"}
	if hasSpan {
		n, err := strconv.ParseUint(span, 10, 64)
		if err != nil {
			return Trace{}, false
		}
		if n != 0 {
			t.SpanID = strconv.FormatUint(n, 16)
			t.SpanID = strings.Repeat("0", 16-len(t.SpanID)) + t.SpanID
		}
	}
	return t, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func allZero(s string) bool { return strings.Trim(s, "0") == "" }
