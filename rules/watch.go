package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// WatchInterval is how often Watch looks at the rendered file.
const WatchInterval = 500 * time.Millisecond

// Watch calls reload with the content of the file at path each time that
// content changes, until ctx ends; then it returns nil. It polls every
// WatchInterval and compares contents, so it needs no file-system events and
// is not fooled by coarse modification times. A file that is missing for a
// moment (an editor replacing it) is not a change.
//
// An error from reload does not stop Watch: during development a rules typo
// must not end the loop. reload should report it (the emulator keeps the old
// rules when new ones do not compile); the next change is tried again.
//
// `hearth dev` uses it with the rendered firestore.rules: after
// `hearth rules render` the emulator has the new rules within a second.
func Watch(ctx context.Context, path string, reload func(src string) error) error {
	return watch(ctx, path, WatchInterval, reload)
}

func watch(ctx context.Context, path string, every time.Duration, reload func(src string) error) error {
	w, err := newWatcher(path)
	if err != nil {
		return err
	}
	w.run(ctx, every, reload)
	return nil
}

// watcher remembers the content last seen at path.
type watcher struct {
	path string
	last []byte
}

// newWatcher reads the current content (the baseline: not a change).
func newWatcher(path string) (*watcher, error) {
	last, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	return &watcher{path: path, last: last}, nil
}

// run polls until ctx ends.
func (w *watcher) run(ctx context.Context, every time.Duration, reload func(src string) error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cur, err := os.ReadFile(w.path)
		if err != nil || bytes.Equal(cur, w.last) {
			continue // missing for a moment, unreadable, or unchanged
		}
		w.last = cur
		_ = reload(string(cur)) // reported by reload; see Watch
	}
}
