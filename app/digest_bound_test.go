package app

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/model"
)

// tickClock is a fake clock that reports each wait of the push flusher's loop (an
// After of the poll interval; the other loops of the registry wait 15 s and more, and
// a send's lease deadline tens of seconds): once it is reported, the tick before it has
// finished and the next one fires when the clock reaches it.
type tickClock struct {
	*clock.Fake
	every time.Duration
	waits chan time.Time
}

func (c *tickClock) After(d time.Duration) <-chan time.Time {
	ch := c.Fake.After(d)
	if d == c.every {
		c.waits <- c.Fake.Now()
	}
	return ch
}

// TestDigestFlushedByNextTick: the bound of docs/deploy.md ("a digest goes out within
// the window + 5 s"), on the worker's own code path: the composition root's scheduler
// registry (App.Background, what --role=worker, --role=all and `hearth dev` run) with the
// push flusher job, driven by a fake clock. bob gets alice's first message at once; her
// second is folded into a digest due when the window ends. No tick before that time
// sends it, and the first tick at or after it does: a digest leaves at most one poll
// interval (1 s) after its window ends, plus its send, which the lease bounds.
func TestDigestFlushedByNextTick(t *testing.T) {
	env := emutest.New(t)
	ctx := t.Context()
	cfg, err := LoadConfig(envconfig.Overlay(os.LookupEnv, map[string]string{
		"HEARTH_FIRESTORE_PROJECT": env.ProjectID,
		"HEARTH_AUTH_PROJECT":      env.AuthProjectID,
		"HEARTH_STORAGE_BUCKET":    "", // no media: its loops are not what this is about
		"HEARTH_ROLE":              "worker",
		"HEARTH_PUSH_WINDOW":       "10s",
		"HEARTH_PUSH_POLL":         "1s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	clk := &tickClock{Fake: clock.NewFake(time.Now().UTC().Truncate(time.Second)), every: time.Second, waits: make(chan time.Time, 64)}
	a, err := New(ctx, cfg, Options{Clock: clk, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	poll, window := a.Push.Config().PollInterval, a.Push.Config().Window

	db := env.Firestore()
	set := func(path string, v any) {
		t.Helper()
		if _, err := db.Doc(path).Set(ctx, v); err != nil {
			t.Fatalf("set %s: %v", path, err)
		}
	}
	now := clk.Now()
	token := "digest-bound-" + env.ProjectID
	set(model.UserPath("alice"), model.User{DisplayName: "Alice", CreatedAt: now})
	set(model.UserPath("bob"), model.User{DisplayName: "Bob", CreatedAt: now})
	set(model.RoomPath("r1"), model.Room{Type: model.RoomGroup, Title: "Bound", CreatedBy: "alice", CreatedAt: now,
		MemberIDs: []string{"alice", "bob"}, MemberCount: 2, LastMessageAt: now})
	set(model.DevicePath("bob", "phone"), model.Device{Token: token, Platform: model.PlatformAndroid, UpdatedAt: now})
	set(model.MembershipPath("bob", "r1"), model.Membership{Notifications: model.NotifyAll, LastReadAt: now.Add(-time.Minute)})
	sent := func() []string {
		var out []string
		for _, s := range env.Sent() {
			if s.Token == token {
				out = append(out, s.Body)
			}
		}
		return out
	}
	say := func(id, text string) {
		t.Helper()
		m := model.Message{SenderID: "alice", Type: model.MessageText, Text: text, CreatedAt: clk.Now()}
		set(model.MessagePath("r1", id), m)
		if err := a.Push.NotifyMessage(ctx, "r1", id, m); err != nil {
			t.Fatalf("NotifyMessage(%s) = %v", id, err)
		}
	}

	bg, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Background(bg) }()
	t.Cleanup(func() {
		stop()
		<-done
	})
	// tick advances the clock by one poll interval and waits until the flusher's tick
	// at the new time has finished (it waits for the next one), or fails at once.
	tick := func() time.Time {
		t.Helper()
		clk.Advance(poll)
		select {
		case at := <-clk.waits:
			return at
		case err := <-done:
			t.Fatalf("the background work stopped: %v", err)
		case <-time.After(time.Minute):
			t.Fatalf("the push flusher did not finish its tick at %s within a minute", clk.Now())
		}
		return time.Time{}
	}
	select {
	case <-clk.waits: // the loop waits for its first tick
	case <-time.After(time.Minute):
		t.Fatal("the push flusher loop did not start within a minute")
	}

	say("m1", "first")
	if got := sent(); len(got) != 1 || got[0] != "Alice: first" {
		t.Fatalf("pushes after the first message = %q, want [\"Alice: first\"]", got)
	}
	tick()
	say("m2", "second")
	snap, err := db.Doc(model.PushQueuePath("bob", "r1")).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var entry model.PushQueueEntry
	if err := snap.DataTo(&entry); err != nil {
		t.Fatal(err)
	}
	due := entry.DueAt
	if due.IsZero() || due.After(now.Add(window+poll)) {
		t.Fatalf("the digest is due at %s, want within the window (%s) of the first push at %s", due, window, now)
	}
	for {
		at := tick()
		got := sent()
		if at.Before(due) {
			if len(got) != 1 {
				t.Fatalf("at %s, before the digest is due (%s), pushes = %q; want only the first", at, due, got)
			}
			continue
		}
		if len(got) != 2 || !strings.Contains(got[1], "second") {
			t.Fatalf("after the flusher's first tick at or after the due time (tick at %s, due %s), pushes = %q; want the digest",
				at, due, got)
		}
		if late := at.Sub(due); late >= poll {
			t.Errorf("the digest went out %s after its window ended, want under one poll interval (%s)", late, poll)
		}
		t.Logf("digest due %s after the first push, sent by the tick at +%s", due.Sub(now), at.Sub(now))
		return
	}
}
