package rules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firestore.rules")
	write := func(s string) {
		t.Helper()
		if err := writeAtomic(path, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	w, err := newWatcher(path)
	if err != nil {
		t.Fatalf("newWatcher() = %v", err)
	}
	got := make(chan string, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, 5*time.Millisecond, func(src string) error {
			got <- src
			return errors.New("does not compile") // must not stop the watch
		})
	}()
	next := func() string {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no reload within 10s")
			return ""
		}
	}
	write("v2")
	if s := next(); s != "v2" {
		t.Errorf("reload(%q), want v2", s)
	}
	// A missing file is not a change; its return with new content is.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	write("v3")
	if s := next(); s != "v3" {
		t.Errorf("reload(%q), want v3 (after a reload error and a missing file)", s)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not return after cancel")
	}
	select {
	case s := <-got:
		t.Errorf("unexpected reload(%q)", s)
	default:
	}
}

func TestWatchReturnsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Watch(ctx, filepath.Join(t.TempDir(), "missing.rules"), func(string) error { return nil }); err != nil {
		t.Errorf("Watch(cancelled) = %v, want nil", err)
	}
}
