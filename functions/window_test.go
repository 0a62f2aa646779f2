package functions

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// writeCounter counts the document writes of the commits a Firestore client made
// successfully, per document path: the exact number of times the pipeline rewrote each
// derived document (a listener would merge snapshots and undercount).
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// client returns an admin client of env's project (it bypasses the rules, like
// env.Firestore) whose successful commits w counts.
func (w *writeCounter) client(t testing.TB, env *emutest.Env) *firestore.Client {
	t.Helper()
	conn, err := grpc.NewClient(env.FirestoreHost,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(ownerToken{}),
		grpc.WithUnaryInterceptor(w.intercept))
	if err != nil {
		t.Fatalf("dial Firestore: %v", err)
	}
	c, err := firestore.NewClient(context.Background(), env.ProjectID, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("counting Firestore client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (w *writeCounter) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	commit, ok := req.(*firestorepb.CommitRequest)
	if !ok || err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.counts == nil {
		w.counts = map[string]int{}
	}
	for _, wr := range commit.GetWrites() {
		name := wr.GetUpdate().GetName()
		if name == "" {
			name = wr.GetDelete()
		}
		if _, path, ok := strings.Cut(name, "/documents/"); ok {
			w.counts[path]++
		}
	}
	return nil
}

// count returns the writes of path since the last reset.
func (w *writeCounter) count(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[path]
}

// watched returns the writes since the last reset of documents that p's triggers watch:
// each of them sent the pipeline one more event.
func (w *writeCounter) watched(p *Pipeline) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var n int64
	for path, c := range w.counts {
		for _, t := range p.Triggers() {
			if _, ok := firestoreevent.Match(t.Document, path); ok {
				n += int64(c)
				break
			}
		}
	}
	return n
}

func (w *writeCounter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts = map[string]int{}
}

// ownerToken is the emulator's admin credential ("Bearer owner"), what the Go client
// sends when FIRESTORE_EMULATOR_HOST is set.
type ownerToken struct{}

func (ownerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (ownerToken) RequireTransportSecurity() bool { return false }

// windowFixture is a fixture on a fake clock whose pipeline writes through a
// writeCounter, with enough workers for a burst of n events to wait in its windows at
// once.
func windowFixture(t *testing.T, n int) (*fixture, *clock.Fake, *writeCounter) {
	fake := clock.NewFake(time.Now())
	w := &writeCounter{}
	f := newFixture(t, fixtureOpts{clock: fake, cfg: Config{Workers: n + 8},
		pipelineDB: func(env *emutest.Env) *firestore.Client { return w.client(t, env) }})
	return f, fake, w
}

// burst makes n writes (write(1..n), with the test's admin client) at one instant of
// the fake clock, then waits until the pipeline has handled every event they caused,
// moving the clock on by the fan-out window whenever a fan-out waits for it. It returns
// how many windows it let pass: the fake time the burst took is that many windows.
//
// Every event is accounted for: the n writes, plus one per write of the pipeline to a
// watched document (counted by w). The clock only moves once all n have arrived, so the
// count of windows depends on how the pipeline coalesces, not on timing.
func (f *fixture) burst(fake *clock.Fake, w *writeCounter, n int, write func(i int) error) int {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, settle)
	defer cancel()
	if err := f.p.Drain(ctx); err != nil {
		f.t.Fatalf("events of the setup not handled: %v", err)
	}
	w.reset()
	base := f.p.Stats().Received
	for i := 1; i <= n; i++ {
		if err := write(i); err != nil {
			f.t.Fatalf("write %d of the burst: %v", i, err)
		}
	}
	windows := 0
	emutest.Eventually(f.t, settle, func() error {
		s := f.p.Stats()
		ours := s.Received - base - w.watched(f.p)
		if ours < int64(n) {
			return fmt.Errorf("%d of %d events of the burst received", ours, n)
		}
		if s.Pending == 0 {
			return nil
		}
		if fake.Waiters() > 0 {
			fake.Advance(f.p.Config().FanoutWindow)
			windows++
		}
		return fmt.Errorf("%d events pending", s.Pending)
	})
	return windows
}

// atMostPerWindow fails for every path written more than windows+1 times: the bound
// of one rewrite per fan-out window, plus the burst's first.
func (f *fixture) atMostPerWindow(w *writeCounter, windows int, paths ...string) {
	f.t.Helper()
	for _, p := range paths {
		got := w.count(p)
		f.t.Logf("%s: %d writes in %d windows", p, got, windows)
		if got < 1 || got > windows+1 {
			f.t.Errorf("%s written %d times in a burst that took %d fan-out windows, want 1..%d", p, got, windows, windows+1)
		}
	}
}

const burstSize = 20

// TestEditBurst: a burst of edits of a room's last message (as fast as Firestore takes
// them; the admin client stands in for edits the rules would spread over several
// messages or a longer time) rewrites each member's inbox entry and the room at most
// once per fan-out window, plus one, and ends with the last text everywhere.
func TestEditBurst(t *testing.T) {
	f, fake, w := windowFixture(t, burstSize)
	members := []string{"alice", "bob", "carol", "dave"}
	f.room("r", model.RoomGroup, "R", members...)
	f.joined("bob", "r")
	m := f.send(f.env.UserClient("alice", nil), "alice", "r", "v0")
	previews := func(want string) func() string {
		return func() string {
			for _, u := range members {
				if e, _ := f.entry(u, "r"); e.LastMessage == nil || e.LastMessage.ID != m || e.LastMessage.Preview != want {
					return fmt.Sprintf("%s's preview = %+v, want %q", u, e.LastMessage, want)
				}
			}
			return ""
		}
	}
	f.eventually("sent", previews("v0"))

	windows := f.burst(fake, w, burstSize, func(i int) error {
		_, err := f.db.Doc(model.MessagePath("r", m)).Update(f.ctx, []firestore.Update{
			{Path: "text", Value: fmt.Sprintf("v%d", i)}, {Path: "editedAt", Value: time.Now()},
		})
		return err
	})
	last := fmt.Sprintf("v%d", burstSize)
	f.eventually("edited", previews(last))
	if r := f.roomDoc("r"); r.LastMessage == nil || r.LastMessage.Preview != last {
		t.Errorf("room lastMessage = %+v, want %q", r.LastMessage, last)
	}
	paths := []string{model.RoomPath("r")}
	for _, u := range members {
		paths = append(paths, model.InboxEntryPath(u, "r"))
	}
	f.atMostPerWindow(w, windows, paths...)
}

// TestRenameBurst: a burst of renames (photo changes are not limited by the rules at
// all) rewrites the user's member docs, the other member's direct-room title and the
// previews of the room where the user sent the last message at most once per fan-out
// window, plus one, and ends with the last name everywhere.
func TestRenameBurst(t *testing.T) {
	f, fake, w := windowFixture(t, burstSize)
	f.user("alice", "Alice", nil)
	dm := model.DirectRoomID("alice", "bob")
	f.room(dm, model.RoomDirect, "", "alice", "bob")
	f.room("g", model.RoomGroup, "G", "alice", "bob", "carol")
	f.joined("alice", dm, "g")
	f.joined("bob", dm, "g")
	f.joined("carol", "g")
	f.send(f.env.UserClient("alice", nil), "alice", "g", "hello")
	f.eventually("sent", func() string {
		if e, _ := f.entry("carol", "g"); e.LastMessage == nil || e.LastMessage.SenderName != "Alice" {
			return fmt.Sprintf("carol's preview = %+v", e.LastMessage)
		}
		return ""
	})

	windows := f.burst(fake, w, burstSize, func(i int) error {
		_, err := f.db.Doc(model.UserPath("alice")).Update(f.ctx, []firestore.Update{
			{Path: "displayName", Value: fmt.Sprintf("A%d", i)}, {Path: "displayNameChangedAt", Value: time.Now()},
		})
		return err
	})
	last := fmt.Sprintf("A%d", burstSize)
	f.eventually("renamed", func() string {
		for _, r := range []string{dm, "g"} {
			if m, _ := f.member(r, "alice"); m.DisplayName != last {
				return fmt.Sprintf("alice's member doc in %s says %q", r, m.DisplayName)
			}
		}
		if e, _ := f.entry("bob", dm); e.Title != last {
			return fmt.Sprintf("bob's title of the direct room = %q", e.Title)
		}
		for _, u := range []string{"alice", "bob", "carol"} {
			if e, _ := f.entry(u, "g"); e.LastMessage == nil || e.LastMessage.SenderName != last {
				return fmt.Sprintf("%s's preview = %+v", u, e.LastMessage)
			}
		}
		return ""
	})
	f.atMostPerWindow(w, windows,
		model.MemberPath(dm, "alice"), model.MemberPath("g", "alice"), model.InboxEntryPath("bob", dm),
		model.RoomPath("g"), model.InboxEntryPath("alice", "g"), model.InboxEntryPath("bob", "g"), model.InboxEntryPath("carol", "g"))
}

// TestPresenceBurst: a burst of online/offline flips rewrites the user's member docs at
// most once per fan-out window, plus one, and ends in the last state.
func TestPresenceBurst(t *testing.T) {
	f, fake, w := windowFixture(t, burstSize)
	f.room("r1", model.RoomGroup, "R1", "alice", "bob")
	f.room("r2", model.RoomGroup, "R2", "alice", "carol")
	f.joined("alice", "r1", "r2")
	// burstSize is even: the last flip leaves alice offline; the first is a transition.
	if _, err := f.db.Doc(model.PresencePath("alice")).Set(f.ctx, model.Presence{State: model.PresenceOffline, HeartbeatAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var lastBeat time.Time
	windows := f.burst(fake, w, burstSize, func(i int) error {
		state := model.PresenceOnline
		if i%2 == 0 {
			state = model.PresenceOffline
		}
		lastBeat = time.Now().UTC().Truncate(time.Microsecond)
		_, err := f.db.Doc(model.PresencePath("alice")).Update(f.ctx, []firestore.Update{
			{Path: "state", Value: string(state)}, {Path: "heartbeatAt", Value: lastBeat}, {Path: "stateChangedAt", Value: lastBeat},
		})
		return err
	})
	f.eventually("offline", func() string {
		for _, r := range []string{"r1", "r2"} {
			if m, _ := f.member(r, "alice"); m.Online || !m.LastSeen.Equal(lastBeat) {
				return fmt.Sprintf("alice in %s: online %v lastSeen %v, want offline since %v", r, m.Online, m.LastSeen, lastBeat)
			}
		}
		return ""
	})
	f.atMostPerWindow(w, windows, model.MemberPath("r1", "alice"), model.MemberPath("r2", "alice"))
}
