package cloudlog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestDirectMatchesSlog writes the same records through the direct encoder and through
// slog's JSONHandler (the same handler with the direct encoder off) and wants the same
// bytes: every level, strings that need escaping, every kind of value (the ones the
// direct encoder leaves to slog too), groups, WithAttrs and WithGroup, keys the
// handler renames, zero and out-of-range times, traced and untraced contexts.
func TestDirectMatchesSlog(t *testing.T) {
	nasty := []string{"", "plain", `quote " backslash \ slash /`, "ctl \x00\x01\x1f\x7f \b\f\n\r\t",
		"<script>&amp;</script>", "é 日本 🎉", "bad \xff\xfe utf8 \xc3", "seps \u2028 \u2029", strings.Repeat("x", 5000)}
	var attrs [][]slog.Attr
	for _, s := range nasty {
		attrs = append(attrs, []slog.Attr{slog.String("s", s)}, []slog.Attr{slog.String(s+"k", "v")})
	}
	attrs = append(attrs,
		nil,
		[]slog.Attr{slog.Int("i", -42), slog.Int64("min", math.MinInt64), slog.Uint64("u", math.MaxUint64), slog.Bool("t", true), slog.Bool("f", false)},
		[]slog.Attr{slog.Duration("d", 1500*time.Microsecond), slog.Duration("neg", -time.Second)},
		[]slog.Attr{slog.Group("httpRequest", slog.String("requestMethod", "GET"), slog.Int("status", 200), slog.Group("deep", slog.String("x", "\n")))},
		[]slog.Attr{slog.Group("empty")},
		[]slog.Attr{slog.Group("", slog.String("inlined", "v"))},
		[]slog.Attr{slog.String("", "empty key")},
		[]slog.Attr{{}},
		[]slog.Attr{slog.String("level", "x"), slog.String("msg", "y"), slog.String("time", "z")},
		[]slog.Attr{slog.Group("g", slog.String("level", "nested level"), slog.String("msg", "nested msg"))},
		[]slog.Attr{slog.Float64("f", 1.5), slog.Float64("nan", math.NaN())},
		[]slog.Attr{slog.Time("at", time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)))},
		[]slog.Attr{slog.Any("err", errors.New("boom")), slog.Any("map", map[string]int{"a": 1}), slog.Any("nil", nil)},
		[]slog.Attr{slog.Any("level", slog.LevelWarn)},
	)
	times := []time.Time{at, {}, time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 12, 0, 0, 0, time.FixedZone("CEST", 7200)), time.Now()}
	levels := []slog.Level{slog.LevelDebug - 4, slog.LevelDebug, slog.LevelInfo, slog.LevelInfo + 2, slog.LevelWarn, slog.LevelError, slog.LevelError + 8}
	withs := map[string]func(slog.Handler) slog.Handler{
		"bare": func(h slog.Handler) slog.Handler { return h },
		"component": func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.String("component", "api.access")})
		},
		"twice": func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithAttrs([]slog.Attr{{}, slog.String("b", "\"")})
		},
		"with-error": func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.Any("e", errors.New("x"))}) },
		"with-msg":   func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("msg", "m")}) },
		"group": func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.String("c", "x")}).WithGroup("req")
		},
	}
	ctxs := map[string]context.Context{
		"untraced": context.Background(),
		"traced":   ContextWithTrace(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true}),
		"no-span":  ContextWithTrace(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}),
	}
	var n, direct int
	for wname, with := range withs {
		for cname, ctx := range ctxs {
			for _, project := range []string{"p", ""} {
				var fast, slow bytes.Buffer
				hf := NewHandler(&fast, project, &slog.HandlerOptions{Level: slog.LevelDebug - 4})
				hs := NewHandler(&slow, project, &slog.HandlerOptions{Level: slog.LevelDebug - 4})
				hs.(*handler).direct = false
				hf, hs = with(hf), with(hs)
				for _, tm := range times {
					for _, lv := range levels {
						for _, as := range attrs {
							for _, msg := range []string{"request", "m \"q\" \xff"} {
								fast.Reset()
								slow.Reset()
								r := slog.NewRecord(tm, lv, msg, 0)
								r.AddAttrs(as...)
								if err := hf.Handle(ctx, r.Clone()); err != nil {
									t.Fatal(err)
								}
								if err := hs.Handle(ctx, r.Clone()); err != nil {
									t.Fatal(err)
								}
								n++
								if fast.String() != slow.String() {
									t.Fatalf("%s/%s/project %q, %v %v %q %v:\ndirect %s\n  slog %s", wname, cname, project, tm, lv, msg, as, fast.String(), slow.String())
								}
							}
						}
					}
				}
				if h := hf.(*handler); h.direct && len(h.groups) == 0 {
					direct++
				}
			}
		}
	}
	if direct == 0 {
		t.Fatalf("no case took the direct encoder (%d lines compared)", n)
	}
	t.Logf("%d lines compared, %d handler setups direct", n, direct)
}

// TestDirectUsedForAccessLines: an access line (plain attributes and httpRequest)
// takes the direct encoder; the test above shows it writes what slog would.
func TestDirectUsedForAccessLines(t *testing.T) {
	h := NewHandler(&bytes.Buffer{}, "p", nil).WithAttrs([]slog.Attr{slog.String("component", "api.access")}).(*handler)
	if !h.direct {
		t.Fatal("a handler with a plain component attribute is not direct")
	}
	for _, a := range []slog.Attr{slog.String("route", "/v1/me"), slog.String("uid", "u"),
		slog.Attr{Key: KeyHTTPRequest, Value: slog.GroupValue(slog.String("requestMethod", "GET"), slog.Int("status", 200))}} {
		if !plainTop(a) {
			t.Errorf("plainTop(%v) = false, want true", a)
		}
	}
	if h := NewHandler(&bytes.Buffer{}, "p", &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return a }}).(*handler); h.direct {
		t.Error("a handler with the caller's ReplaceAttr is direct")
	}
}

// TestLogRequestMatchesHandle: LogRequest writes what the handler writes for the record
// it stands for (the attributes, then the request's httpRequest), and what slog's
// JSONHandler writes for it, for requests whose every field needs escaping or is at
// its limits, with attributes the direct path takes and ones it leaves to the record,
// through handlers it writes directly and ones it does not (WithGroup, ReplaceAttr, a
// handler of another package).
func TestLogRequestMatchesHandle(t *testing.T) {
	nasty := []string{"", "GET", `quote " backslash \`, "ctl \x00\x1f\x7f\n\t", "é 日本 🎉", "bad \xff utf8", "seps \u2028"}
	var reqs []Request
	for i, s := range nasty {
		reqs = append(reqs, Request{Method: s, URL: "/v1/" + s, Status: 200 + i, ResponseSize: int64(i) * 1000,
			Latency: time.Duration(i) * 1234567 * time.Nanosecond, UserAgent: s, RemoteIP: s, Protocol: s})
	}
	reqs = append(reqs,
		Request{},
		Request{Method: "POST", URL: "/x", Status: -1, ResponseSize: math.MinInt64, Latency: -time.Second},
		Request{Method: "GET", URL: "/y", Status: math.MaxInt, ResponseSize: math.MaxInt64, Latency: math.MaxInt64},
		Request{Method: "GET", URL: "/z", Status: 599, Latency: 2 * time.Second},
	)
	attrSets := [][]slog.Attr{
		nil,
		{slog.String("route", "/v1/me"), slog.String("requestId", "r1")},
		{slog.String("route", "unmatched"), slog.String("requestId", "\""), slog.String("uid", "u\n"), slog.String("reason", "TOKEN_INVALID")},
		{slog.Int("n", 3), slog.Bool("b", true), slog.Duration("d", time.Millisecond)},
		{slog.String("msg", "renamed")},    // the record's path
		{slog.Any("err", errors.New("x"))}, // the record's path
		{{}},                               // the record's path
	}
	handlers := map[string]func(w *bytes.Buffer, project string) slog.Handler{
		"cloudlog": func(w *bytes.Buffer, p string) slog.Handler { return NewHandler(w, p, nil) },
		"component": func(w *bytes.Buffer, p string) slog.Handler {
			return NewHandler(w, p, nil).WithAttrs([]slog.Attr{slog.String("component", "api.access")})
		},
		"group": func(w *bytes.Buffer, p string) slog.Handler { return NewHandler(w, p, nil).WithGroup("g") },
		"replace": func(w *bytes.Buffer, p string) slog.Handler {
			return NewHandler(w, p, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return a }})
		},
		"slog": func(w *bytes.Buffer, _ string) slog.Handler { return slog.NewJSONHandler(w, nil) },
	}
	ctxs := []context.Context{context.Background(),
		ContextWithTrace(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true})}
	times := []time.Time{at, {}, time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Now()}
	var n, direct int
	for hname, mk := range handlers {
		for _, project := range []string{"p", "", "q\"\xc3"} { // a project that needs escaping, ending in half a rune
			var got, want, viaSlog, scratch bytes.Buffer
			hg, hw, hs := mk(&got, project), mk(&want, project), mk(&viaSlog, project)
			hd, _ := mk(&scratch, project).(*handler) // asked which path LogRequest takes
			if h, ok := hs.(*handler); ok {
				h.direct = false
			}
			for _, ctx := range ctxs {
				for _, tm := range times {
					for _, lv := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
						for _, as := range attrSets {
							for i := range reqs {
								q := &reqs[i]
								got.Reset()
								want.Reset()
								viaSlog.Reset()
								if err := LogRequest(ctx, hg, tm, lv, "request", as, q); err != nil {
									t.Fatal(err)
								}
								r := slog.NewRecord(tm, lv, "request", 0)
								r.AddAttrs(as...)
								r.AddAttrs(q.Attr())
								if err := hw.Handle(ctx, r.Clone()); err != nil {
									t.Fatal(err)
								}
								if err := hs.Handle(ctx, r.Clone()); err != nil {
									t.Fatal(err)
								}
								n++
								if got.String() != want.String() || got.String() != viaSlog.String() {
									t.Fatalf("%s/project %q, %v %v %v %+v:\nLogRequest %s\n    Handle %s\n      slog %s",
										hname, project, tm, lv, as, *q, got.String(), want.String(), viaSlog.String())
								}
								if hd != nil {
									if done, err := hd.writeRequest(ctx, tm, lv, "request", as, q); err != nil {
										t.Fatal(err)
									} else if done {
										direct++
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if direct == 0 {
		t.Fatalf("no line took LogRequest's direct path (%d lines compared)", n)
	}
	t.Logf("%d lines compared, %d on the direct path", n, direct)
}

// TestLogRequestAllocations: an access line through LogRequest and this package's
// handler allocates nothing (the buffer is pooled; the writer here keeps nothing).
func TestLogRequestAllocations(t *testing.T) {
	h := NewHandler(io.Discard, "p", nil).WithAttrs([]slog.Attr{slog.String("component", "api.access")})
	ctx := ContextWithTrace(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"})
	q := &Request{Method: "GET", URL: "/v1/me", Status: 200, ResponseSize: 93, Latency: 1234567,
		UserAgent: "app/1.0", RemoteIP: "203.0.113.9", Protocol: "HTTP/1.1"}
	tm := time.Now()
	attrs := []slog.Attr{slog.String("route", "/v1/me"), slog.String("requestId", "r1"), slog.String("uid", "u1")}
	if n := testing.AllocsPerRun(100, func() {
		if err := LogRequest(ctx, h, tm, slog.LevelInfo, "request", attrs, q); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("LogRequest allocates %v times per line, want 0", n)
	}
}

// BenchmarkLogRequest is one access line through LogRequest and Cloud Logging's handler,
// next to the same line as a record through the handler (the way it was written before
// LogRequest) and through slog's own JSON encoder.
func BenchmarkLogRequest(b *testing.B) {
	h := NewHandler(io.Discard, "p", nil).WithAttrs([]slog.Attr{slog.String("component", "api.access")})
	slow := NewHandler(io.Discard, "p", nil)
	slow.(*handler).direct = false
	slow = slow.WithAttrs([]slog.Attr{slog.String("component", "api.access")})
	ctx := context.Background()
	q := &Request{Method: "GET", URL: "/v1/me", Status: 200, ResponseSize: 93, Latency: 1234567,
		UserAgent: "Go-http-client/1.1", RemoteIP: "203.0.113.9", Protocol: "HTTP/1.1"}
	attrs := []slog.Attr{slog.String("route", "/v1/me"), slog.String("requestId", "0123456789abcdef0123456789abcdef"), slog.String("uid", "bench-user")}
	b.Run("LogRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = LogRequest(ctx, h, time.Now(), slog.LevelInfo, "request", attrs, q)
		}
	})
	for name, h := range map[string]slog.Handler{"record": h, "slog": slow} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(attrs...)
				r.AddAttrs(q.Attr())
				_ = h.Handle(ctx, r)
			}
		})
	}
}

// TestAppendStringMatchesSlog: random strings over the bytes that matter (every class
// appendString treats apart, and the bytes around them) at every length and offset up
// to a few words, written by appendString and by slog.
func TestAppendStringMatchesSlog(t *testing.T) {
	alphabet := []byte{0x00, 0x1f, 0x20, '!', '"', '#', '/', '<', '[', '\\', ']', 'a', 0x7e, 0x7f, 0x80, 0xbf, 0xc3, 0xa9,
		0xe2, 0x80, 0xa8, 0xa9, 0xf0, 0x9f, 0x8e, 0x89, 0xff, '\n', '\t', '\r'}
	rng := rand.New(rand.NewPCG(1, 2))
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key != "s" {
			return slog.Attr{}
		}
		return a
	}}))
	for n := range 20000 {
		b := make([]byte, n%40)
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		s := string(b)
		out.Reset()
		log.Info("", "s", s)
		want := strings.TrimSuffix(strings.TrimPrefix(out.String(), `{"s":`), "}\n")
		if got := string(appendString(nil, s)); got != want {
			t.Fatalf("appendString(%q) = %s, slog writes %s", s, got, want)
		}
	}
}
