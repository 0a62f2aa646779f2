// Package cloudlog writes log/slog records the way Cloud Logging reads them from a Cloud Run
// container's stdout/stderr: one JSON object per line with `severity`, `message` and
// `time`, the request's trace (`logging.googleapis.com/trace`, `spanId`,
// `trace_sampled`) taken from the context, and `httpRequest` on access log lines. Without
// `severity` Cloud Logging files every line as DEFAULT; without the trace fields a
// request's lines are not grouped under it in the Logs Explorer.
package cloudlog

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Keys Cloud Logging reads from a JSON log line (the LogEntry fields of the structured
// logging agent).
const (
	KeySeverity     = "severity"
	KeyMessage      = "message"
	KeyTime         = "time"
	KeyTrace        = "logging.googleapis.com/trace"
	KeySpanID       = "logging.googleapis.com/spanId"
	KeyTraceSampled = "logging.googleapis.com/trace_sampled"
	KeyHTTPRequest  = "httpRequest"
)

// Severity returns Cloud Logging's severity name for a slog level: DEBUG, INFO, WARNING
// (slog's WARN), ERROR; levels between two names take the lower one, levels above ERROR
// are ERROR (slog has nothing that means CRITICAL).
func Severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// NewHandler returns a JSON handler for Cloud Logging writing to w. project is the Google
// Cloud project that owns the traces (GOOGLE_CLOUD_PROJECT): the trace field must read
// projects/{project}/traces/{id}; with project empty no trace fields are written. opts
// may be nil; its ReplaceAttr, if any, runs after the renaming.
func NewHandler(w io.Writer, project string, opts *slog.HandlerOptions) slog.Handler {
	var o slog.HandlerOptions
	if opts != nil {
		o = *opts
	}
	user := o.ReplaceAttr
	o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 {
			switch a.Key {
			case slog.LevelKey:
				lv, _ := a.Value.Any().(slog.Level)
				a = slog.String(KeySeverity, Severity(lv))
			case slog.MessageKey:
				a.Key = KeyMessage
			}
		}
		if user != nil {
			a = user(groups, a)
		}
		return a
	}
	lw := &lockedWriter{w: w}
	return &handler{inner: slog.NewJSONHandler(lw, &o), project: project,
		out: lw, direct: user == nil && !o.AddSource}
}

// handler adds the trace fields of the context at the top level of each line. slog's
// JSONHandler would put attributes added in Handle inside the groups opened by
// WithGroup, so handler keeps the groups (and the attributes given after them) itself
// and nests them into the record when it is written.
type handler struct {
	inner   slog.Handler // carries the attributes given before the first group
	project string
	groups  []group

	// The direct encoder (encode.go): out is the writer inner writes through too;
	// direct is false when the options or an attribute given before the first group
	// need slog's path; pre are those attributes, encoded (",k:v...").
	out    *lockedWriter
	direct bool
	pre    []byte
}

type group struct {
	name  string
	attrs []slog.Attr
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	c := *h
	if len(h.groups) == 0 {
		c.inner = h.inner.WithAttrs(as)
		if c.direct {
			c.pre = append([]byte(nil), h.pre...)
			for _, a := range as {
				if a.Equal(slog.Attr{}) {
					continue // slog drops empty attributes
				}
				if !plainTop(a) {
					c.direct, c.pre = false, nil
					break
				}
				c.pre = appendAttr(append(c.pre, ','), a)
			}
		}
		return &c
	}
	c.groups = append([]group(nil), h.groups...)
	last := &c.groups[len(c.groups)-1]
	last.attrs = append(append([]slog.Attr(nil), last.attrs...), as...)
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = append(append([]group(nil), h.groups...), group{name: name})
	return &c
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	t, traced := TraceFromContext(ctx)
	traced = traced && h.project != ""
	if h.directAt(r.Time) {
		ok := true
		r.Attrs(func(a slog.Attr) bool {
			ok = plainTop(a)
			return ok
		})
		if ok {
			return h.write(r, t, traced)
		}
	}
	if !traced && len(h.groups) == 0 {
		// Nothing to add or nest (an untraced line of an ungrouped logger, such
		// as every access line without a trace header): no copy.
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if traced {
		out.AddAttrs(
			slog.String(KeyTrace, "projects/"+h.project+"/traces/"+t.TraceID),
			slog.String(KeySpanID, t.SpanID),
			slog.Bool(KeyTraceSampled, t.Sampled),
		)
	}
	if len(h.groups) == 0 {
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(a)
			return true
		})
		return h.inner.Handle(ctx, out)
	}
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		inner := append(append([]slog.Attr(nil), g.attrs...), attrs...)
		if len(inner) == 0 {
			attrs = nil // slog drops empty groups
			continue
		}
		attrs = []slog.Attr{{Key: g.name, Value: slog.GroupValue(inner...)}}
	}
	out.AddAttrs(attrs...)
	return h.inner.Handle(ctx, out)
}

// directAt reports whether a line of time t may take the direct encoder as far as the
// handler is concerned (each attribute must also be plainTop).
func (h *handler) directAt(t time.Time) bool {
	return h.direct && len(h.groups) == 0 && timeOK(t)
}

// write writes r with the direct encoder (encode.go): what slog would write for it.
func (h *handler) write(r slog.Record, t Trace, traced bool) error {
	bp, buf := h.begin(r.Time, r.Level, r.Message, t, traced)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(append(buf, ','), a)
		return true
	})
	return h.end(bp, buf)
}

// writeRequest is LogRequest's direct path: the line of a record of t, level and msg
// with attrs and q.Attr(), as write writes it. It reports false, having written
// nothing, when that record would not take the direct encoder.
func (h *handler) writeRequest(ctx context.Context, t time.Time, level slog.Level, msg string, attrs []slog.Attr, q *Request) (bool, error) {
	if !h.directAt(t) {
		return false, nil
	}
	for _, a := range attrs {
		if !plainTop(a) {
			return false, nil
		}
	}
	tr, traced := TraceFromContext(ctx)
	bp, buf := h.begin(t, level, msg, tr, traced && h.project != "")
	for _, a := range attrs {
		buf = appendAttr(append(buf, ','), a)
	}
	buf = appendRequest(buf, q)
	return true, h.end(bp, buf)
}

// begin takes a buffer from the pool and appends a line's opening: time, severity,
// message, the handler's attributes and the trace fields.
func (h *handler) begin(tm time.Time, l slog.Level, msg string, t Trace, traced bool) (*[]byte, []byte) {
	bp := bufPool.Get().(*[]byte)
	buf := appendHead((*bp)[:0], tm, l, msg)
	buf = append(buf, h.pre...)
	if traced {
		buf = append(buf, ',')
		buf = appendString(buf, KeyTrace)
		buf = append(buf, ':')
		// appendString of "projects/"+h.project+"/traces/"+t.TraceID without
		// concatenating: the separators are ASCII, so no rune spans two parts.
		buf = append(buf, `"projects/`...)
		buf = appendEscaped(buf, h.project)
		buf = append(buf, "/traces/"...)
		buf = appendEscaped(buf, t.TraceID)
		buf = append(buf, '"')
		buf = appendAttr(append(buf, ','), slog.String(KeySpanID, t.SpanID))
		buf = appendAttr(append(buf, ','), slog.Bool(KeyTraceSampled, t.Sampled))
	}
	return bp, buf
}

// end closes the line, writes it and puts the buffer back.
func (h *handler) end(bp *[]byte, buf []byte) error {
	buf = append(buf, '}', '\n')
	_, err := h.out.Write(buf)
	if cap(buf) <= 64<<10 { // a huge line's buffer is not kept
		*bp = buf
		bufPool.Put(bp)
	}
	return err
}
