package cloudlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"
)

// TestSlogConformance runs the standard library's handler tests (groups, WithAttrs,
// empty attributes, zero times...) against the handler, reading its lines back with
// Cloud Logging's key names mapped to slog's.
func TestSlogConformance(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return NewHandler(&buf, "p", nil)
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", buf.String(), err)
		}
		if v, ok := m[KeySeverity]; ok {
			m[slog.LevelKey] = v
			delete(m, KeySeverity)
		}
		if v, ok := m[KeyMessage]; ok {
			m[slog.MessageKey] = v
			delete(m, KeyMessage)
		}
		return m
	})
}
