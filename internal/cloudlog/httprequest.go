package cloudlog

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Request is the content of Cloud Logging's HttpRequest on an access log line:
// requestMethod, requestUrl, status, responseSize (an int64, so a JSON string), latency
// (a Duration: seconds with a trailing "s", "0.123s"), userAgent, remoteIp, protocol.
type Request struct {
	Method string
	// URL is the path only: a query string may carry a token, and logs must never hold
	// one. NewRequest fills it so.
	URL          string
	Status       int
	ResponseSize int64
	Latency      time.Duration
	UserAgent    string
	RemoteIP     string
	Protocol     string
}

// NewRequest is the Request of r answered with status and responseSize after latency.
// remoteIP is the client address the caller trusts (after its proxy handling);
// r.RemoteAddr is used when it is empty. Its Attr is the line's `httpRequest`; an access
// log middleware logs it with the request's context (WithRequestTrace) so the line also
// carries the trace, or hands it to LogRequest, which writes the same line faster:
//
//	q := cloudlog.NewRequest(r, status, size, latency, ip)
//	log.LogAttrs(cloudlog.WithRequestTrace(r), level, "request", q.Attr())
func NewRequest(r *http.Request, status int, responseSize int64, latency time.Duration, remoteIP string) Request {
	if remoteIP == "" {
		remoteIP = r.RemoteAddr
	}
	return Request{Method: r.Method, URL: r.URL.EscapedPath(), Status: status, ResponseSize: responseSize,
		Latency: latency, UserAgent: r.UserAgent(), RemoteIP: remoteIP, Protocol: r.Proto}
}

// Attr is q as the `httpRequest` attribute.
func (q *Request) Attr() slog.Attr {
	// One allocation for the group's attributes (slog.Group would box each of them as
	// an any first).
	attrs := []slog.Attr{
		slog.String("requestMethod", q.Method),
		slog.String("requestUrl", q.URL),
		slog.Int("status", q.Status),
		slog.String("responseSize", strconv.FormatInt(q.ResponseSize, 10)),
		slog.String("latency", Latency(q.Latency)),
		slog.String("userAgent", q.UserAgent),
		slog.String("remoteIp", q.RemoteIP),
		slog.String("protocol", q.Protocol),
	}
	return slog.Attr{Key: KeyHTTPRequest, Value: slog.GroupValue(attrs...)}
}

// LogRequest hands h an access line: the record of time t, level and msg with attrs and
// then q's httpRequest attribute. Through this package's handler (without WithGroup, the
// caller's ReplaceAttr or AddSource) and with string, number, boolean and duration
// attrs, it writes the line straight into a pooled buffer — byte for byte what h.Handle
// writes for that record (TestLogRequestMatchesHandle), without building the record,
// the group's attributes, or the latency and size strings. Any other handler gets the
// record. Like Handler.Handle, it does not check h.Enabled.
func LogRequest(ctx context.Context, h slog.Handler, t time.Time, level slog.Level, msg string, attrs []slog.Attr, q *Request) error {
	if ch, ok := h.(*handler); ok {
		if done, err := ch.writeRequest(ctx, t, level, msg, attrs, q); done {
			return err
		}
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	r.AddAttrs(q.Attr())
	return h.Handle(ctx, r)
}

// Latency formats d as a protobuf Duration in JSON: whole seconds, up to nine decimals
// without trailing zeros, and an "s" ("0.123s", "2s", "0.0000015s"). It works on the
// integer nanoseconds, so no float rounding shows; a negative d is "0s".
func Latency(d time.Duration) string {
	var buf [32]byte // the longest, 9223372036.854775807s, is 22 bytes
	return string(appendLatency(buf[:0], d))
}

// appendLatency appends Latency(d).
func appendLatency(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, '0', 's')
	}
	b = strconv.AppendInt(b, int64(d/time.Second), 10)
	if ns := int64(d % time.Second); ns != 0 {
		b = append(b, '.')
		n := len(b)
		b = strconv.AppendInt(b, ns+1e9, 10) // "1" and nine digits, leading zeros kept
		b = append(b[:n], b[n+1:]...)        // without the "1"
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return append(b, 's')
}
