package functions

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

// heartbeat writes uid's presence as the client does (heartbeatAt = request.time, and
// stateChangedAt = request.time when the state changes) and returns the stored
// heartbeat.
func (f *fixture) heartbeat(c *firestore.Client, uid string, state model.PresenceState) time.Time {
	f.t.Helper()
	var p model.Presence
	exists := f.get(model.PresencePath(uid), &p)
	data := map[string]any{"state": string(state), "heartbeatAt": firestore.ServerTimestamp}
	fields := []firestore.FieldPath{{"state"}, {"heartbeatAt"}}
	if !exists || p.State != state {
		data["stateChangedAt"] = firestore.ServerTimestamp
		fields = append(fields, firestore.FieldPath{"stateChangedAt"})
	}
	if _, err := c.Doc(model.PresencePath(uid)).Set(f.ctx, data, firestore.Merge(fields...)); err != nil {
		f.t.Fatalf("presence of %s: %v", uid, err)
	}
	f.get(model.PresencePath(uid), &p)
	return p.HeartbeatAt
}

// backdate moves field of the document at path back by d with the admin client, as if
// the client had written it d earlier: the rules' rate limits count from it.
func (f *fixture) backdate(path, field string, d time.Duration) {
	f.t.Helper()
	if _, err := f.db.Doc(path).Update(f.ctx, []firestore.Update{{Path: field, Value: time.Now().Add(-d)}}); err != nil {
		f.t.Fatalf("backdate %s.%s: %v", path, field, err)
	}
}

// waitReceived waits until the local door has received n events in all, then until they
// are handled.
func (f *fixture) waitReceived(p *Pipeline, n int64) {
	f.t.Helper()
	f.eventually("events received", func() string {
		if got := p.Stats().Received; got < n {
			return fmt.Sprintf("received %d events, want %d", got, n)
		}
		return ""
	})
	if err := p.Drain(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// TestPresenceTransitions: online and offline reach the member docs of every room of the
// user; a heartbeat that changes nothing writes nothing.
func TestPresenceTransitions(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r1", model.RoomGroup, "R1", "alice", "bob")
	f.room("r2", model.RoomGroup, "R2", "bob", "carol")
	bob := f.env.UserClient("bob", nil)
	f.joined("bob", "r1", "r2")
	online := func(want bool, lastSeen time.Time) func() string {
		return func() string {
			for _, r := range []string{"r1", "r2"} {
				m, _ := f.member(r, "bob")
				if m.Online != want || !m.LastSeen.Equal(lastSeen) {
					return fmt.Sprintf("bob in %s: online %v lastSeen %v, want %v %v", r, m.Online, m.LastSeen, want, lastSeen)
				}
			}
			return ""
		}
	}
	f.heartbeat(bob, "bob", model.PresenceOnline)
	f.eventually("online", online(true, time.Time{}))

	before := f.snapshot(model.MemberPath("r1", "bob")).UpdateTime
	received := f.p.Stats().Received
	f.heartbeat(bob, "bob", model.PresenceOnline)
	f.waitReceived(f.p, received+1)
	if after := f.snapshot(model.MemberPath("r1", "bob")).UpdateTime; !after.Equal(before) {
		t.Errorf("a heartbeat rewrote the member doc (%v -> %v)", before, after)
	}

	f.backdate(model.PresencePath("bob"), "stateChangedAt", model.PresenceStateInterval)
	last := f.heartbeat(bob, "bob", model.PresenceOffline)
	f.eventually("offline", online(false, last))
	f.eventually("presence lastSeen", func() string {
		var p model.Presence
		f.get(model.PresencePath("bob"), &p)
		if !p.LastSeen.Equal(last) {
			return fmt.Sprintf("presence.lastSeen = %v, want %v", p.LastSeen, last)
		}
		return ""
	})
}

// TestPresenceSweeper: with the clock moved past OfflineAfter, the sweeper marks a
// silent user offline with lastSeen = the last heartbeat, and the member docs follow.
func TestPresenceSweeper(t *testing.T) {
	fake := clock.NewFake(time.Now())
	f := newFixture(t, fixtureOpts{clock: fake})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	bob := f.env.UserClient("bob", nil)
	f.joined("bob", "r")
	hb := f.heartbeat(bob, "bob", model.PresenceOnline)
	fake.Set(hb)
	f.eventually("online", func() string {
		if m, _ := f.member("r", "bob"); !m.Online {
			return "bob not online"
		}
		return ""
	})
	for _, tc := range []struct {
		advance time.Duration
		want    SweepResult
	}{
		{0, SweepResult{Leased: true, Changed: 0}},
		{model.OfflineAfter, SweepResult{Leased: true, Changed: 0}}, // exactly 70 s: not yet
		{time.Second, SweepResult{Leased: true, Changed: 1}},
		{time.Second, SweepResult{Leased: true, Changed: 0}}, // already offline
	} {
		fake.Advance(tc.advance)
		got, err := f.p.SweepPresence(f.ctx)
		if err != nil || got != tc.want {
			t.Fatalf("SweepPresence(+%v) = %+v, %v, want %+v", tc.advance, got, err, tc.want)
		}
	}
	var p model.Presence
	f.get(model.PresencePath("bob"), &p)
	if p.State != model.PresenceOffline || !p.LastSeen.Equal(hb) {
		t.Errorf("presence after sweep = %+v, want offline, lastSeen %v", p, hb)
	}
	f.eventually("member offline", func() string {
		if m, _ := f.member("r", "bob"); m.Online || !m.LastSeen.Equal(hb) {
			return fmt.Sprintf("bob's member doc = online %v lastSeen %v", m.Online, m.LastSeen)
		}
		return ""
	})
}

// TestSweepersDoNotFight: two instances sweeping at once: exactly one holds the lease
// and does the work; the other takes over only after the lease expires. Then both run
// their scheduler loops on the same fake clock and every silent user ends offline once.
func TestSweepersDoNotFight(t *testing.T) {
	fake := clock.NewFake(time.Now())
	f := newFixture(t, fixtureOpts{clock: fake})
	p1, p2 := f.p, f.newPipeline(Config{})
	users := []string{"u1", "u2", "u3", "u4", "u5"}
	var hb time.Time
	for _, u := range users {
		hb = f.heartbeat(f.env.UserClient(u, nil), u, model.PresenceOnline)
	}
	fake.Set(hb.Add(model.OfflineAfter + time.Second))

	var wg sync.WaitGroup
	results := make([]SweepResult, 2)
	errs := make([]error, 2)
	for i, p := range []*Pipeline{p1, p2} {
		wg.Go(func() { results[i], errs[i] = p.SweepPresence(f.ctx) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("SweepPresence errors: %v, %v", errs[0], errs[1])
	}
	if results[0].Leased == results[1].Leased {
		t.Fatalf("SweepPresence results = %+v: want exactly one leased", results)
	}
	if n := results[0].Changed + results[1].Changed; n != len(users) {
		t.Errorf("users marked offline = %d, want %d", n, len(users))
	}
	winner, loser := p1, p2
	if results[1].Leased {
		winner, loser = p2, p1
	}
	var l Lease
	f.get(model.LeasesCollection+"/"+SchedulerPresenceSweeper, &l)
	if l.Holder != winner.Config().InstanceID {
		t.Errorf("lease holder = %q, want %q", l.Holder, winner.Config().InstanceID)
	}
	if got, err := loser.SweepPresence(f.ctx); err != nil || got.Leased {
		t.Errorf("loser's SweepPresence while the lease holds = %+v, %v, want not leased", got, err)
	}
	fake.Advance(2*DefaultPresenceSweepInterval + time.Second) // the winner stopped renewing
	if got, err := loser.SweepPresence(f.ctx); err != nil || !got.Leased {
		t.Errorf("loser's SweepPresence after expiry = %+v, %v, want leased", got, err)
	}
	for _, u := range users {
		var p model.Presence
		f.get(model.PresencePath(u), &p)
		if p.State != model.PresenceOffline {
			t.Errorf("%s = %s, want offline", u, p.State)
		}
	}
}

// TestSchedulerLoops: Run's scheduler loops, driven by the fake clock, on two instances.
func TestSchedulerLoops(t *testing.T) {
	fake := clock.NewFake(time.Now())
	cfg := Config{PresenceSweepInterval: 10 * time.Second, TypingCleanupInterval: time.Hour}
	f := newFixture(t, fixtureOpts{clock: fake, cfg: cfg})
	f.newPipeline(cfg)
	hb := f.heartbeat(f.env.UserClient("u1", nil), "u1", model.PresenceOnline)
	fake.Set(hb)
	// Each instance runs two loops, each waiting on the clock.
	if err := fake.WaitForWaiters(f.ctx, 4); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ { // 80 s of fake time, one sweep interval at a time
		fake.Advance(cfg.PresenceSweepInterval)
		if err := fake.WaitForWaiters(f.ctx, 4); err != nil {
			t.Fatal(err)
		}
	}
	f.eventually("swept by a loop", func() string {
		var p model.Presence
		f.get(model.PresencePath("u1"), &p)
		if p.State != model.PresenceOffline || !p.LastSeen.Equal(hb) {
			return fmt.Sprintf("u1 = %+v", p)
		}
		return ""
	})
}

// TestTypingCleanup: typing docs older than TypingStaleAfter are deleted, fresh ones kept.
func TestTypingCleanup(t *testing.T) {
	fake := clock.NewFake(time.Now())
	f := newFixture(t, fixtureOpts{clock: fake})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	f.joined("bob", "r")
	if _, err := f.db.Doc(model.TypingPath("r", "alice")).Set(f.ctx, model.Typing{Typing: true, UpdatedAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.UserClient("bob", nil).Doc(model.TypingPath("r", "bob")).Set(f.ctx, map[string]any{
		"typing": true, "updatedAt": firestore.ServerTimestamp,
	}); err != nil {
		t.Fatal(err)
	}
	var bobTyping model.Typing
	f.get(model.TypingPath("r", "bob"), &bobTyping)
	fake.Set(bobTyping.UpdatedAt)
	if got, err := f.p.CleanTyping(f.ctx); err != nil || got != (SweepResult{Leased: true, Changed: 1}) {
		t.Fatalf("CleanTyping = %+v, %v, want 1 deleted", got, err)
	}
	if f.exists(model.TypingPath("r", "alice")) || !f.exists(model.TypingPath("r", "bob")) {
		t.Errorf("after cleanup: alice's stale doc exists %v, bob's fresh doc exists %v",
			f.exists(model.TypingPath("r", "alice")), f.exists(model.TypingPath("r", "bob")))
	}
	fake.Advance(model.TypingStaleAfter + time.Millisecond)
	if got, err := f.p.CleanTyping(f.ctx); err != nil || got != (SweepResult{Leased: true, Changed: 1}) {
		t.Fatalf("CleanTyping(later) = %+v, %v, want 1 deleted", got, err)
	}
}
