package cloudlog

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// HTTPRequest returns the `httpRequest` attribute of an access log line, in the shape of
// Cloud Logging's HttpRequest: requestMethod, requestUrl, status, responseSize (an int64,
// so a JSON string), latency (a Duration: seconds with a trailing "s", "0.123s"),
// userAgent, remoteIp, protocol. requestUrl is the path only: a query string may carry a
// token, and logs must never hold one. remoteIP is the client address the caller trusts
// (after its proxy handling); r.RemoteAddr is used when it is empty.
//
// An access log middleware logs with the request's context (WithRequestTrace) so the line
// also carries the trace:
//
//	log.LogAttrs(cloudlog.WithRequestTrace(r), level, "request", cloudlog.HTTPRequest(r, status, size, latency, ip))
func HTTPRequest(r *http.Request, status int, responseSize int64, latency time.Duration, remoteIP string) slog.Attr {
	if remoteIP == "" {
		remoteIP = r.RemoteAddr
	}
	// One allocation for the group's attributes (slog.Group would box each of
	// them as an any first): this runs on every request.
	attrs := []slog.Attr{
		slog.String("requestMethod", r.Method),
		slog.String("requestUrl", r.URL.EscapedPath()),
		slog.Int("status", status),
		slog.String("responseSize", strconv.FormatInt(responseSize, 10)),
		slog.String("latency", Latency(latency)),
		slog.String("userAgent", r.UserAgent()),
		slog.String("remoteIp", remoteIP),
		slog.String("protocol", r.Proto),
	}
	return slog.Attr{Key: KeyHTTPRequest, Value: slog.GroupValue(attrs...)}
}

// Latency formats d as a protobuf Duration in JSON: whole seconds, up to nine decimals
// without trailing zeros, and an "s" ("0.123s", "2s", "0.0000015s"). It works on the
// integer nanoseconds, so no float rounding shows; a negative d is "0s".
func Latency(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var buf [32]byte // the longest, 9223372036.854775807s, is 22 bytes
	b := strconv.AppendInt(buf[:0], int64(d/time.Second), 10)
	if ns := int64(d % time.Second); ns != 0 {
		b = append(b, '.')
		n := len(b)
		b = strconv.AppendInt(b, ns+1e9, 10) // "1" and nine digits, leading zeros kept
		b = append(b[:n], b[n+1:]...)        // without the "1"
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return string(append(b, 's'))
}
