package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/hearth-chat/hearth/internal/cloudlog"
)

// newLogger builds the process logger of `hearth serve`. "json" is Cloud Logging's
// structured format (internal/cloudlog: severity, message, the request's trace in
// project, the project the traces belong to); "text" is slog's plain text, as
// `hearth dev` writes.
func newLogger(w io.Writer, format, level, project string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(cloudlog.NewHandler(w, project, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", format)
}
