package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestNewLoggerCloudLogging: `hearth serve` logs in Cloud Logging's shape (severity,
// message), so that Cloud Run does not show every line as DEFAULT.
func TestNewLoggerCloudLogging(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "p")
	var buf bytes.Buffer
	log, err := newLogger(&buf, "json", "info", "demo-log")
	if err != nil {
		t.Fatal(err)
	}
	log.Warn("slow", "n", 1)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("line %q: %v", buf.String(), err)
	}
	if line["severity"] != "WARNING" || line["message"] != "slow" || line["msg"] != nil || line["level"] != nil || line["time"] == nil {
		t.Errorf("newLogger(json).Warn wrote %s; want severity WARNING, message, time, and no msg/level", buf.String())
	}
}

func TestNewLoggerText(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "text", "debug", "demo-log")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hello")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG msg=hello") {
		t.Errorf("newLogger(text).Debug wrote %q, want slog's text format", got)
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"json", "loud"}} {
		if _, err := newLogger(&buf, bad[0], bad[1], "demo-log"); err == nil {
			t.Errorf("newLogger(%q, %q) = nil error, want one", bad[0], bad[1])
		}
	}
}
