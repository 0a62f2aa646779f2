package cloudlog

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The direct encoder writes the lines slog's JSONHandler would write for this handler,
// byte for byte, without its per-attribute ReplaceAttr calls and state: the access log
// writes one line per request, and slog's general path was most of what an
// authenticated request cost (docs/performance.md). It takes only records whose
// attributes are all plain (strings, integers, booleans, durations, and non-empty
// groups of those under a non-empty key); any other record, a handler with the
// caller's ReplaceAttr or AddSource, and attributes after WithGroup go through slog.
// TestDirectMatchesSlog compares the two on every kind of input. LogRequest
// (httprequest.go) writes an access line with it without building a record at all;
// TestLogRequestMatchesHandle compares that with the record's line.

// lockedWriter serializes the lines of the direct encoder and of slog's handler (which
// writes through it) on the one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// plain reports whether the direct encoder writes a exactly as slog would.
func plain(a slog.Attr) bool {
	if a.Key == "" {
		return false // slog drops or inlines these
	}
	switch a.Value.Kind() {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindBool, slog.KindDuration:
		return true
	case slog.KindGroup:
		g := a.Value.Group()
		if len(g) == 0 {
			return false // slog drops empty groups
		}
		for _, m := range g {
			if !plain(m) {
				return false
			}
		}
		return true
	}
	return false
}

// plainTop is plain for an attribute at the top level of a line, where the handler's
// renaming (NewHandler) also applies to an attribute keyed "level" or "msg".
func plainTop(a slog.Attr) bool {
	return a.Key != slog.LevelKey && a.Key != slog.MessageKey && plain(a)
}

// appendAttr appends `"key":value` of a plain attribute.
func appendAttr(buf []byte, a slog.Attr) []byte {
	buf = appendString(buf, a.Key)
	buf = append(buf, ':')
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		buf = appendString(buf, v.String())
	case slog.KindInt64:
		buf = strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		buf = strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindBool:
		buf = strconv.AppendBool(buf, v.Bool())
	case slog.KindDuration:
		buf = strconv.AppendInt(buf, int64(v.Duration()), 10)
	case slog.KindGroup:
		buf = append(buf, '{')
		for i, m := range v.Group() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendAttr(buf, m)
		}
		buf = append(buf, '}')
	}
	return buf
}

// appendHead appends the line's opening: time (unless zero), severity, message.
func appendHead(buf []byte, t time.Time, l slog.Level, msg string) []byte {
	buf = append(buf, '{')
	if !t.IsZero() {
		buf = append(buf, `"time":"`...)
		buf = t.Round(0).AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"severity":"`...)
	buf = append(buf, Severity(l)...)
	buf = append(buf, `","message":`...)
	return appendString(buf, msg)
}

// appendRequest appends `,"httpRequest":{...}` of q: what appendAttr appends for q.Attr()
// (the size and latency strings need no escaping).
func appendRequest(buf []byte, q *Request) []byte {
	buf = append(buf, `,"httpRequest":{"requestMethod":`...)
	buf = appendString(buf, q.Method)
	buf = append(buf, `,"requestUrl":`...)
	buf = appendString(buf, q.URL)
	buf = append(buf, `,"status":`...)
	buf = strconv.AppendInt(buf, int64(q.Status), 10)
	buf = append(buf, `,"responseSize":"`...)
	buf = strconv.AppendInt(buf, q.ResponseSize, 10)
	buf = append(buf, `","latency":"`...)
	buf = appendLatency(buf, q.Latency)
	buf = append(buf, `","userAgent":`...)
	buf = appendString(buf, q.UserAgent)
	buf = append(buf, `,"remoteIp":`...)
	buf = appendString(buf, q.RemoteIP)
	buf = append(buf, `,"protocol":`...)
	buf = appendString(buf, q.Protocol)
	return append(buf, '}')
}

// timeOK is whether slog writes t as the direct encoder does (RFC 3339 has four-digit
// years only; slog writes an error for the others).
func timeOK(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.Year()
	return y >= 0 && y < 10000
}

// appendString appends s as a JSON string the way log/slog does (its
// appendEscapedJSONString): ", \ and control characters escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped, nothing else (no HTML escaping).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	buf = appendEscaped(buf, s)
	return append(buf, '"')
}

// appendEscaped appends s escaped as in appendString, without the quotes.
func appendEscaped(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(buf, s[start:]...)
}
