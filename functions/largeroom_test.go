package functions

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/roster"
)

// TestLargeRoomMode: with the large-room threshold at 3 members, a room of 3 gathers its
// fan-outs per window; a burst there, then a member leaving (the room drops below the
// threshold and fans out at once again), then one joining (back to large): after each
// step every count and badge is exact and every entry shows the last message.
func TestLargeRoomMode(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: Config{LargeRoomMembers: 3, LargeRoomWindow: 200 * time.Millisecond}})
	f.room("big", model.RoomGroup, "Big", "alice", "bob", "carol")
	f.joined("bob", "big")
	f.joined("carol", "big")
	alice := f.env.UserClient("alice", nil)
	var last string
	for i := range 6 {
		last = f.send(alice, "alice", "big", fmt.Sprintf("m%d", i), "bob")
	}
	exact := func(step string, want map[string][2]int) {
		t.Helper()
		f.eventually(step, func() string {
			for uid, w := range want {
				e, _ := f.entry(uid, "big")
				if e.LastMessage == nil || e.LastMessage.ID != last {
					return fmt.Sprintf("%s's entry shows %+v, want %s", uid, e.LastMessage, last)
				}
				if s := f.unreadState(uid, map[string][2]int{"big": w}); s != "" {
					return s
				}
			}
			return ""
		})
	}
	exact("burst in large mode", map[string][2]int{"bob": {6, 6}, "carol": {6, 0}, "alice": {0, 0}})

	f.removeMember("big", "carol", false)
	f.eventually("carol left", func() string {
		if f.exists(model.InboxEntryPath("carol", "big")) {
			return "carol still has an entry"
		}
		return ""
	})
	last = f.send(alice, "alice", "big", "small again")
	exact("below the threshold", map[string][2]int{"bob": {7, 6}, "alice": {0, 0}})

	f.addMember("big", "dave")
	f.joined("dave", "big")
	last = f.send(alice, "alice", "big", "large again", "dave")
	exact("large again", map[string][2]int{"bob": {8, 6}, "dave": {1, 1}, "alice": {0, 0}})
}

// TestLargeRoomReceiptsTypingPresence: with the threshold at 3, a room growing to 3
// members switches to large-room mode (room.large): the member docs lose their mirrored
// receipts, delivery and presence, typing is refused by the rules, and the room's
// "read by N" (readCounts/last) counts the readers of the last message — not its sender,
// not a reader with read receipts off (until she turns them on). Shrinking back to 2
// switches everything back: receipts and presence mirrored again, the count deleted,
// typing allowed.
func TestLargeRoomReceiptsTypingPresence(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: Config{LargeRoomMembers: 3, LargeRoomWindow: 100 * time.Millisecond}})
	off := false
	f.user("alice", "Alice", nil)
	f.user("bob", "Bob", nil)
	f.user("carol", "Carol", &model.UserSettings{ReadReceipts: &off})
	f.room("big", model.RoomGroup, "Big", "alice", "bob")
	f.room("side", model.RoomGroup, "Side", "bob", "alice")
	f.joined("bob", "big", "side")
	f.joined("alice", "big")
	alice, bob, carol := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil), f.env.UserClient("carol", nil)
	typing := map[string]any{"typing": true, "updatedAt": firestore.ServerTimestamp}

	// Small: bob's receipt and presence are mirrored, typing is allowed, no count.
	m0 := f.send(alice, "alice", "big", "hello")
	f.markRead(bob, "bob", "big", m0)
	f.heartbeat(bob, "bob", model.PresenceOnline)
	f.eventually("small room mirrors", func() string {
		m, _ := f.member("big", "bob")
		if m.ReadMessageID != m0 || !m.Online {
			return fmt.Sprintf("bob's member doc = %+v, want readMessageId %s and online", m, m0)
		}
		return ""
	})
	if _, err := bob.Doc(model.TypingPath("big", "bob")).Set(f.ctx, typing); err != nil {
		t.Fatalf("typing in a small room: %v", err)
	}
	if f.roomDoc("big").Large || f.exists(model.ReadCountPath("big")) {
		t.Fatalf("small room: large = true or a read count exists")
	}

	// Grows to 3: large mode.
	f.addMember("big", "carol")
	f.joined("carol", "big")
	f.eventually("switch to large", func() string {
		if !f.roomDoc("big").Large {
			return "room.large not set"
		}
		for _, uid := range []string{"alice", "bob", "carol"} {
			m, ok := f.member("big", uid)
			if !ok || !m.ReadAt.IsZero() || m.ReadMessageID != "" || !m.DeliveredAt.IsZero() || m.Online || !m.LastSeen.IsZero() {
				return fmt.Sprintf("%s's member doc = %+v, want no receipts, delivery or presence", uid, m)
			}
		}
		var bobs, carols model.Membership
		if f.get(model.MembershipPath("bob", "big"), &bobs); bobs.RoomID != "big" || !bobs.ReadReceipts {
			return fmt.Sprintf("bob's membership = %+v, want roomId big, readReceipts", bobs)
		}
		if f.get(model.MembershipPath("carol", "big"), &carols); carols.RoomID != "big" || carols.ReadReceipts {
			return fmt.Sprintf("carol's membership = %+v, want roomId big, no readReceipts", carols)
		}
		return ""
	})
	if _, err := bob.Doc(model.TypingPath("big", "bob")).Set(f.ctx, map[string]any{"typing": false, "updatedAt": firestore.ServerTimestamp}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("typing in a large room: err = %v, want PermissionDenied", err)
	}

	readCount := func(step, id string, want int) {
		t.Helper()
		f.eventually(step, func() string {
			var rc model.ReadCount
			if !f.get(model.ReadCountPath("big"), &rc) || rc.MessageID != id || rc.Count != want {
				return fmt.Sprintf("read count = %+v, want %d for %s", rc, want, id)
			}
			return ""
		})
	}
	m1 := f.send(alice, "alice", "big", "big news")
	readCount("new last message", m1, 0)
	f.markRead(alice, "alice", "big", m1) // the sender: never counted
	f.markRead(carol, "carol", "big", m1) // receipts off: not counted
	f.markRead(bob, "bob", "big", m1)
	readCount("bob read", m1, 1)
	// Exact at the end: a recount now (every event above handled or not) says the same.
	if err := f.p.roster.CountReads(f.ctx, "big"); err != nil {
		t.Fatal(err)
	}
	readCount("recount", m1, 1)
	m, _ := f.member("big", "bob")
	if !m.ReadAt.IsZero() || m.ReadMessageID != "" {
		t.Errorf("bob's member doc after reading in a large room = %+v, want no receipt", m)
	}
	// carol turns her receipts on: she counts.
	if _, err := carol.Doc(model.UserPath("carol")).Update(f.ctx, []firestore.Update{{Path: "settings.readReceipts", Value: true}}); err != nil {
		t.Fatal(err)
	}
	readCount("carol's receipts on", m1, 2)
	// A newer message starts at 0.
	m2 := f.send(bob, "bob", "big", "thanks")
	readCount("next message", m2, 0)

	// Presence reaches the small room, and the large room's member doc carries none.
	// (This checks the end state only: the presence fan-out skips the large room to
	// save its reads, but a roster.Sync there would write nothing either.)
	f.backdate(model.PresencePath("bob"), "stateChangedAt", model.PresenceStateInterval)
	f.heartbeat(bob, "bob", model.PresenceOffline)
	f.eventually("offline in the small room", func() string {
		if m, _ := f.member("side", "bob"); m.Online || m.LastSeen.IsZero() {
			return fmt.Sprintf("bob's member doc in side = %+v, want offline with lastSeen", m)
		}
		return ""
	})
	if m, _ := f.member("big", "bob"); m.Online || !m.LastSeen.IsZero() {
		t.Errorf("bob's member doc in the large room = %+v, want no presence", m)
	}

	// Shrinks to 2: back to normal.
	f.removeMember("big", "carol", false)
	f.eventually("switch back", func() string {
		if f.roomDoc("big").Large {
			return "room.large still set"
		}
		if f.exists(model.ReadCountPath("big")) {
			return "read count still there"
		}
		m, _ := f.member("big", "bob")
		if m.ReadMessageID != m1 || m.ReadAt.IsZero() || m.LastSeen.IsZero() {
			return fmt.Sprintf("bob's member doc = %+v, want his receipt (%s) and lastSeen again", m, m1)
		}
		return ""
	})
	f.backdate(model.TypingPath("big", "bob"), "updatedAt", time.Minute)
	if _, err := bob.Doc(model.TypingPath("big", "bob")).Set(f.ctx, typing); err != nil {
		t.Fatalf("typing after the room shrank: %v", err)
	}
}

// TestReadCountExactUnderRaces: a recount that counted before five members read the
// large room's last message commits only after a recount that started after the reads
// committed. Its guard (the count document as it read it: missing) makes its commit fail;
// it counts again, finds the count already right and writes nothing, so the count stays
// exactly 5, and a recount then changes nothing. No triggers run: the two recounts are
// the only writers, held in this order by a gRPC interceptor on the stale one's commit.
func TestReadCountExactUnderRaces(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	readers := []string{"r1", "r2", "r3", "r4", "r5"}
	f.room("race", model.RoomGroup, "Race", append([]string{"alice"}, readers...)...)
	sent := time.Now().UTC().Truncate(time.Microsecond)
	joined := sent.Add(-time.Minute)
	if _, err := f.db.Doc(model.RoomPath("race")).Update(f.ctx, []firestore.Update{
		{Path: model.FieldLarge, Value: true},
		{Path: "lastMessage", Value: model.LastMessage{ID: "m1", SenderID: "alice", Type: model.MessageText, Preview: "count me", SentAt: sent}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, uid := range append([]string{"alice"}, readers...) {
		if _, err := f.db.Doc(model.MembershipPath(uid, "race")).Set(f.ctx, model.Membership{
			LastReadAt: joined, Notifications: model.NotifyAll, RoomID: "race", ReadReceipts: true}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (model.ReadCount, *firestore.DocumentSnapshot) {
		t.Helper()
		var rc model.ReadCount
		snap := f.snapshot(model.ReadCountPath("race"))
		if snap.Exists() {
			if err := snap.DataTo(&rc); err != nil {
				t.Fatal(err)
			}
		}
		return rc, snap
	}

	// The stale recount: it reads and counts now (nobody has read m1), and its
	// commit is held until the fresh one has committed.
	gate := &commitGate{held: make(chan struct{}), release: make(chan struct{})}
	stale := roster.New(interceptedFirestore(t, f.env, gate.unary, nil), f.clock)
	staleDone := make(chan error, 1)
	go func() { staleDone <- stale.CountReads(f.ctx, "race") }()
	select {
	case <-gate.held:
	case err := <-staleDone:
		t.Fatalf("the stale recount ended (%v) before it committed", err)
	case <-time.After(settle):
		t.Fatalf("the stale recount did not reach its commit within %s", settle)
	}

	for _, uid := range readers {
		if _, err := f.db.Doc(model.MembershipPath(uid, "race")).Update(f.ctx, []firestore.Update{
			{Path: "lastReadAt", Value: sent}, {Path: "lastReadMessageId", Value: "m1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.p.roster.CountReads(f.ctx, "race"); err != nil {
		t.Fatalf("fresh recount: %v", err)
	}
	if rc, _ := count(); rc.MessageID != "m1" || rc.Count != 5 {
		t.Fatalf("after the fresh recount: read count = %+v, want 5 for m1", rc)
	}

	close(gate.release)
	select {
	case err := <-staleDone:
		if err != nil {
			t.Fatalf("stale recount: %v", err)
		}
	case <-time.After(settle):
		t.Fatalf("the stale recount did not end within %s of its release", settle)
	}
	if errs := gate.results(); len(errs) != 1 || status.Code(errs[0]) != codes.AlreadyExists {
		t.Errorf("the stale recount's commits = %v, want one, refused with AlreadyExists (its guard), and no write after counting again", errs)
	}
	rc, before := count()
	if rc.MessageID != "m1" || rc.Count != 5 {
		t.Fatalf("after the stale recount: read count = %+v, want 5 for m1", rc)
	}
	if err := f.p.roster.CountReads(f.ctx, "race"); err != nil {
		t.Fatal(err)
	}
	if rc, after := count(); rc.Count != 5 || !after.UpdateTime.Equal(before.UpdateTime) {
		t.Errorf("a recount at the end: read count = %+v (updated %v, was %v), want 5 and no write", rc, after.UpdateTime, before.UpdateTime)
	}
}

// commitGate holds a Firestore client's first Commit until release is closed (held is
// closed when it arrives) and records the outcome of every Commit.
type commitGate struct {
	held, release chan struct{}
	once          sync.Once
	mu            sync.Mutex
	errs          []error
}

func (g *commitGate) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if _, ok := req.(*firestorepb.CommitRequest); !ok {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	first := false
	g.once.Do(func() { first = true; close(g.held) })
	if first {
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	g.mu.Lock()
	g.errs = append(g.errs, err)
	g.mu.Unlock()
	return err
}

func (g *commitGate) results() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.errs)
}
