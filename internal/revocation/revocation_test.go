package revocation

import (
	"context"
	"errors"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

func TestRevoked(t *testing.T) {
	t.Parallel()
	at := time.Unix(100, 500_000_000) // 100.5 s
	tests := []struct {
		authTime int64
		want     bool
	}{
		{99, true},
		{100, true}, // the marker's own second: may have begun before it
		{101, false},
	}
	for _, tt := range tests {
		if got := Revoked(tt.authTime, at); got != tt.want {
			t.Errorf("Revoked(%d, 100.5 s) = %v, want %v", tt.authTime, got, tt.want)
		}
	}
	if !Revoked(100, time.Unix(100, 0)) {
		t.Error("Revoked(100, 100.0 s) = false, want true (same instant)")
	}
	if Revoked(math.MaxInt64, time.Unix(100, 0)) {
		t.Error("Revoked(MaxInt64, 100 s) = true, want false (no overflow)")
	}
	if !Revoked(math.MinInt64, time.Unix(100, 0)) {
		t.Error("Revoked(MinInt64, 100 s) = false, want true")
	}
	if !Revoked(0, time.Unix(100, 0)) {
		t.Error("Revoked(0 (no auth_time), 100 s) = false, want true")
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	if _, err := New(Config{}, nil, nil, nil); err == nil {
		t.Error("New(nil Firestore) = nil error")
	}
	if _, err := New(Config{PollInterval: 5 * time.Second, StaleAfter: time.Second}, env.Firestore(), nil, nil); err == nil {
		t.Error("New(stale after < poll interval) = nil error")
	}
	m, err := New(Config{}, env.Firestore(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config(); c.PollInterval != DefaultPollInterval || c.StaleAfter != DefaultStaleAfter {
		t.Errorf("defaults = %+v", c)
	}
	for _, uid := range []string{"", "a/b", "..", "__x__"} {
		if _, err := m.Revoke(t.Context(), uid, ReasonRevoke); err == nil {
			t.Errorf("Revoke(%q) = nil error", uid)
		}
	}
}

// TestTwoInstances: the instance that writes a marker knows it at once;
// another learns it from its next poll, and reports whether its memory is
// current by its own clock.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	ctx := t.Context()
	clk := clock.NewFake(time.Now())
	a, err := New(Config{}, env.Firestore(), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{}, env.Firestore(), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	b.OnRevoke(func(uid string) { mu.Lock(); seen = append(seen, uid); mu.Unlock() })

	if b.Fresh() {
		t.Error("Fresh() before any poll = true")
	}
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Fresh() || b.Len() != 0 {
		t.Errorf("after the first poll: Fresh() = %v, Len() = %d; want true, 0", b.Fresh(), b.Len())
	}

	before := time.Now()
	at, err := a.Revoke(ctx, "alice", ReasonDisable)
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("Revoke() time %s, want the server's now (%s)", at, before)
	}
	if got, ok := a.RevokedAt("alice"); !ok || !got.Equal(at) {
		t.Errorf("writer's RevokedAt(alice) = %s, %v; want %s at once", got, ok, at)
	}
	if _, ok := b.RevokedAt("alice"); ok {
		t.Error("other instance knew the marker before polling")
	}
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok := b.RevokedAt("alice"); !ok || !got.Equal(at) {
		t.Errorf("other instance after a poll: RevokedAt(alice) = %s, %v; want %s", got, ok, at)
	}
	// A later marker of the same user moves the time on; a poll that
	// re-reads an unchanged marker reports nothing new.
	at2, err := a.Revoke(ctx, "alice", ReasonClaims)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, "bob", ReasonRevoke); err != nil {
		t.Fatal(err)
	}
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.RevokedAt("alice"); !got.Equal(at2) || b.Len() != 2 {
		t.Errorf("after the second marker: RevokedAt(alice) = %s (want %s), Len() = %d (want 2)", got, at2, b.Len())
	}
	mu.Lock()
	if want := []string{"alice", "alice", "bob"}; len(seen) != 3 || seen[0] != "alice" || seen[1] != "alice" || seen[2] != "bob" {
		t.Errorf("OnRevoke saw %v, want %v", seen, want)
	}
	mu.Unlock()

	// Staleness is measured from the start of the last successful poll.
	clk.Advance(DefaultStaleAfter)
	if !b.Fresh() {
		t.Error("Fresh() exactly StaleAfter after the poll = false")
	}
	clk.Advance(time.Millisecond)
	if b.Fresh() {
		t.Error("Fresh() past StaleAfter = true")
	}
}

// TestRunStopsAndFailsStale: Run polls until its context ends; with
// Firestore gone, the markers turn stale instead of pretending.
func TestRunStopsAndFailsStale(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	m, err := New(Config{PollInterval: 10 * time.Millisecond, StaleAfter: 2 * time.Second}, env.Firestore(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	emutest.Eventually(t, 10*time.Second, func() error {
		if !m.Fresh() {
			return errors.New("not fresh yet")
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	emutest.Eventually(t, 10*time.Second, func() error {
		if m.Fresh() {
			return errors.New("still fresh with nobody polling")
		}
		return nil
	})
}

// TestOwnMarkerDoesNotHideOthers: a marker this instance writes itself must
// not move its polls past markers of other instances that it has not read
// yet. Polls read from the newest marker seen less an overlap; if that
// newest one is the instance's own, written after a run of failed polls
// longer than the overlap, a marker another instance wrote meanwhile
// (older than the own one by more than the overlap) would never be read.
// The overlap is set to zero here to stand for such a run without waiting
// for it.
func TestOwnMarkerDoesNotHideOthers(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	ctx := t.Context()
	a, err := New(Config{}, env.Firestore(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{}, env.Firestore(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.overlap = 0
	if err := a.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// b revokes alice while a does not poll; then a revokes bob itself
	// (Revoke waits past the marker's second, so bob's marker is newer).
	atAlice, err := b.Revoke(ctx, "alice", ReasonDisable)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, "bob", ReasonRevoke); err != nil {
		t.Fatal(err)
	}
	if err := a.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok := a.RevokedAt("alice"); !ok || !got.Equal(atAlice) {
		t.Errorf("after a poll, RevokedAt(alice) = %s, %v; want %s: the own marker of bob hid the other instance's", got, ok, atAlice)
	}
}
