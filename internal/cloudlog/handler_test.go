package cloudlog

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 12, 5, 3, 4, 5, 123456789, time.UTC)

// logLine writes one record at `at` through h (with fn applied) and returns the line.
func logLine(t *testing.T, ctx context.Context, project string, level slog.Level, msg string, fn func(slog.Handler) slog.Handler, attrs ...slog.Attr) string {
	t.Helper()
	var buf bytes.Buffer
	h := NewHandler(&buf, project, &slog.HandlerOptions{Level: slog.LevelDebug})
	if fn != nil {
		h = fn(h)
	}
	r := slog.NewRecord(at, level, msg, 0)
	r.AddAttrs(attrs...)
	if err := h.Handle(ctx, r); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestHandlerSeverityAndMessage(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug, `{"time":"2026-12-05T03:04:05.123456789Z","severity":"DEBUG","message":"m","k":1}`},
		{slog.LevelInfo, `{"time":"2026-12-05T03:04:05.123456789Z","severity":"INFO","message":"m","k":1}`},
		{slog.LevelWarn, `{"time":"2026-12-05T03:04:05.123456789Z","severity":"WARNING","message":"m","k":1}`},
		{slog.LevelError, `{"time":"2026-12-05T03:04:05.123456789Z","severity":"ERROR","message":"m","k":1}`},
		{slog.LevelInfo + 2, `{"time":"2026-12-05T03:04:05.123456789Z","severity":"INFO","message":"m","k":1}`},
		{slog.LevelError + 4, `{"time":"2026-12-05T03:04:05.123456789Z","severity":"ERROR","message":"m","k":1}`},
	}
	for _, tt := range tests {
		if got := logLine(t, t.Context(), "p", tt.level, "m", nil, slog.Int("k", 1)); got != tt.want {
			t.Errorf("level %v:\n got %s\nwant %s", tt.level, got, tt.want)
		}
	}
}

func TestHandlerTrace(t *testing.T) {
	ctx := ContextWithTrace(t.Context(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true})
	got := logLine(t, ctx, "my-project", slog.LevelInfo, "hello", func(h slog.Handler) slog.Handler {
		return h.WithAttrs([]slog.Attr{slog.String("component", "api")}).WithGroup("req").WithAttrs([]slog.Attr{slog.String("id", "r1")})
	}, slog.Int("n", 2))
	want := `{"time":"2026-12-05T03:04:05.123456789Z","severity":"INFO","message":"hello","component":"api",` +
		`"logging.googleapis.com/trace":"projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736",` +
		`"logging.googleapis.com/spanId":"00f067aa0ba902b7","logging.googleapis.com/trace_sampled":true,"req":{"id":"r1","n":2}}`
	if got != want {
		t.Errorf("traced line:\n got %s\nwant %s", got, want)
	}
	// No project: no trace fields (Cloud Logging wants the project in the trace name).
	got = logLine(t, ctx, "", slog.LevelInfo, "hello", nil)
	if want := `{"time":"2026-12-05T03:04:05.123456789Z","severity":"INFO","message":"hello"}`; got != want {
		t.Errorf("line without project:\n got %s\nwant %s", got, want)
	}
	// An empty group at the end disappears, as in slog.
	got = logLine(t, t.Context(), "p", slog.LevelInfo, "x", func(h slog.Handler) slog.Handler { return h.WithGroup("g") })
	if want := `{"time":"2026-12-05T03:04:05.123456789Z","severity":"INFO","message":"x"}`; got != want {
		t.Errorf("empty group:\n got %s\nwant %s", got, want)
	}
}

func TestHandlerLevelAndReplaceAttr(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, "p", &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	log.Info("dropped")
	log.Warn("kept", "error", "boom")
	if got, want := buf.String(), `{"severity":"WARNING","message":"kept","error":"boom"}`+"\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestHTTPRequest(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/v1/rooms/r1/messages?token=secret", nil)
	r.Header.Set("User-Agent", "app/1.0")
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, "p", &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	q := NewRequest(r, 201, 1234, 123*time.Millisecond, "203.0.113.9")
	log.LogAttrs(WithRequestTrace(r), slog.LevelInfo, "request", q.Attr())
	want := `{"severity":"INFO","message":"request",` +
		`"logging.googleapis.com/trace":"projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736",` +
		`"logging.googleapis.com/spanId":"00f067aa0ba902b7","logging.googleapis.com/trace_sampled":false,` +
		`"httpRequest":{"requestMethod":"POST","requestUrl":"/v1/rooms/r1/messages","status":201,"responseSize":"1234",` +
		`"latency":"0.123s","userAgent":"app/1.0","remoteIp":"203.0.113.9","protocol":"HTTP/1.1"}}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("access line:\n got %s\nwant %s", got, want)
	}
}

func TestLatency(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{123 * time.Millisecond, "0.123s"},
		{2 * time.Second, "2s"},
		{1500 * time.Nanosecond, "0.0000015s"},
		{90*time.Second + time.Nanosecond, "90.000000001s"},
		{0, "0s"},
		{-time.Second, "0s"},
	}
	for _, tt := range tests {
		if got := Latency(tt.d); got != tt.want {
			t.Errorf("Latency(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
