package cloudlog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
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
