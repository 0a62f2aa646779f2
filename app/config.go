package app

import (
	"errors"
	"fmt"

	"github.com/hearth-chat/hearth/admin"
	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/push"
)

// Config is the configuration of every part New builds, one sub-config per part.
type Config struct {
	// API is the HTTP API's (and the projects and bucket every part uses).
	API admin.Config
	// Functions is the trigger pipeline's and its schedulers'.
	Functions functions.Config
	// Push is the notifier's and its flusher's.
	Push push.Config
	// Media is the upload checks' (Bucket defaults to API.StorageBucket).
	Media media.Config
}

// LoadConfig reads Config from the environment through lookup (os.LookupEnv in
// production, a map in tests) with each part's own loader, and reports every part's
// error at once.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	getenv := func(k string) string { v, _ := lookup(k); return v }
	var c Config
	var errs []error
	var err error
	if c.API, err = admin.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("api: %w", err))
	}
	if c.Functions, err = functions.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("functions: %w", err))
	}
	if c.Push, err = push.ConfigFromEnv(lookup); err != nil {
		errs = append(errs, fmt.Errorf("push: %w", err))
	}
	if c.Media, err = media.LoadConfig(getenv); err != nil {
		errs = append(errs, fmt.Errorf("media: %w", err))
	}
	return c, errors.Join(errs...)
}
