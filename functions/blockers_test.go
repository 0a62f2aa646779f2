package functions

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// blockers reads blockers/{uid} (ok false when missing).
func (f *fixture) blockers(uid string) (model.Blockers, bool) {
	f.t.Helper()
	var b model.Blockers
	return b, f.get(model.BlockersPath(uid), &b)
}

// blockersState complains unless blockers/{uid} lists exactly want (not overflowed).
func (f *fixture) blockersState(uid string, want ...string) string {
	b, _ := f.blockers(uid)
	if b.Overflow || !slices.Equal(b.By, want) {
		return fmt.Sprintf("blockers of %s = %+v, want %q", uid, b, want)
	}
	return ""
}

// TestBlockersIndexDuplicatesAndReordering delivers the events of block documents
// straight to onBlockWritten (no triggers are registered): every event twice, deletes
// before the creates they undo, stale creates after the deletes. After each step
// blockers/alice lists exactly the users whose block of alice exists.
func TestBlockersIndexDuplicatesAndReordering(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	vs := f.versions()
	// write creates (or, with del, deletes) uid's block of alice and returns its event.
	write := func(uid string, del bool) *firestoreevent.Event {
		t.Helper()
		if del {
			return vs.write(model.BlockPath(uid, "alice"), nil)
		}
		return vs.write(model.BlockPath(uid, "alice"), model.Block{CreatedAt: time.Now().UTC()})
	}
	deliver := func(evs ...*firestoreevent.Event) {
		t.Helper()
		f.deliver(TriggerBlockWritten, evs...)
	}
	check := func(step string, want ...string) {
		t.Helper()
		if s := f.blockersState("alice", want...); s != "" {
			t.Fatalf("%s: %s", step, s)
		}
	}

	bobOn := write("bob", false)
	deliver(bobOn, bobOn)
	check("bob's block delivered twice", "bob")
	carolOn, daveOn := write("carol", false), write("dave", false)
	deliver(daveOn, carolOn, daveOn)
	check("carol's and dave's, reordered and duplicated", "bob", "carol", "dave")

	bobOff := write("bob", true)
	deliver(bobOff, bobOn, bobOff) // the stale create comes after the delete
	check("bob's unblock, then his old create again", "carol", "dave")

	carolOff := write("carol", true)
	carolAgain := write("carol", false)
	deliver(carolAgain, carolOff, carolOn) // all out of order: carol blocks alice now
	check("carol unblocks and blocks again, events reversed", "carol", "dave")

	daveOff := write("dave", true)
	carolOff = write("carol", true)
	deliver(carolOff, daveOn, daveOff, carolAgain)
	check("everyone unblocked")
	if b, ok := f.blockers("alice"); !ok || b.UpdatedAt.IsZero() {
		t.Errorf("blockers/alice = %+v (exists %v), want an empty index kept", b, ok)
	}

	// Malformed paths and self-blocks (the rules refuse them) index nothing.
	self := eventOf(t, f.snapshot(model.BlockPath("alice", "alice")), nil)
	self.Value = bobOn.Value
	deliver(self)
	check("a self-block event")
}

// TestBlockersIndexConcurrent: 12 users block alice at once, each event delivered by
// two concurrent runs of the handler; then 6 unblock her the same way. The guarded
// commits lose no update: the index lists exactly the blocks that exist.
func TestBlockersIndexConcurrent(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	var uids []string
	for i := range 12 {
		uids = append(uids, fmt.Sprintf("u%02d", i))
	}
	run := func(del func(i int) bool) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(uids))
		tr, _ := f.p.trigger(TriggerBlockWritten)
		start := make(chan struct{}) // every run starts once every document is written
		for i, uid := range uids {
			path := model.BlockPath(uid, "alice")
			old := f.snapshot(path)
			if del(i) {
				if _, err := f.db.Doc(path).Delete(f.ctx); err != nil {
					t.Fatal(err)
				}
			} else if _, err := f.db.Doc(path).Set(f.ctx, model.Block{CreatedAt: time.Now().UTC()}); err != nil {
				t.Fatal(err)
			}
			ev := eventOf(t, f.snapshot(path), old)
			for range 2 {
				wg.Go(func() {
					<-start
					errs <- f.p.run(f.ctx, tr, ev)
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	run(func(int) bool { return false })
	if s := f.blockersState("alice", uids...); s != "" {
		t.Fatal(s)
	}
	run(func(i int) bool { return i%2 == 0 })
	var odd []string
	for i, uid := range uids {
		if i%2 == 1 {
			odd = append(odd, uid)
		}
	}
	if s := f.blockersState("alice", odd...); s != "" {
		t.Fatal(s)
	}
}

// TestBlockersIndexOverflow: with a cap of 2, the third block of alice overflows her
// index for good; her messages then fall back to the block documents, and still count
// for nobody who blocks her, and for everyone else (an unblocked member included).
func TestBlockersIndexOverflow(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: Config{BlockersCap: 2}})
	members := []string{"alice", "bob", "carol", "dave", "erin"}
	f.room("g", model.RoomGroup, "G", members...)
	f.joined("bob", "g")
	f.joined("carol", "g")
	f.joined("dave", "g")
	f.joined("erin", "g")
	for _, uid := range []string{"bob", "carol"} {
		if _, err := f.db.Doc(model.BlockPath(uid, "alice")).Set(f.ctx, model.Block{CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	f.eventually("two blockers indexed", func() string { return f.blockersState("alice", "bob", "carol") })
	if _, err := f.db.Doc(model.BlockPath("dave", "alice")).Set(f.ctx, model.Block{CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	f.eventually("third blocker overflows", func() string {
		if b, _ := f.blockers("alice"); !b.Overflow || len(b.By) != 0 {
			return fmt.Sprintf("blockers of alice = %+v, want overflow and no list", b)
		}
		return ""
	})
	// carol unblocks: the index stays overflowed (it no longer knows who blocks alice).
	if _, err := f.db.Doc(model.BlockPath("carol", "alice")).Delete(f.ctx); err != nil {
		t.Fatal(err)
	}
	alice := f.env.UserClient("alice", nil)
	last := f.send(alice, "alice", "g", "hi all", "bob", "carol", "erin")
	f.eventually("counts from the block documents", func() string {
		if r := f.roomDoc("g"); r.LastMessage == nil || r.LastMessage.ID != last {
			return "room not at the message yet"
		}
		for uid, want := range map[string][2]int{"bob": {0, 0}, "dave": {0, 0}, "carol": {1, 1}, "erin": {1, 1}} {
			if s := f.unreadState(uid, map[string][2]int{"g": want}); s != "" {
				return s
			}
		}
		return ""
	})
	if b, _ := f.blockers("alice"); !b.Overflow {
		t.Errorf("blockers of alice = %+v after an unblock, want still overflowed", b)
	}
}

// TestBlockersIndexDecidesCounts: while alice's index is exact, it alone says who blocks
// her (one read per fan-out, no block document per member): bob, whom it lists without a
// block document behind it, does not count her message; carol does.
func TestBlockersIndexDecidesCounts(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("g", model.RoomGroup, "G", "alice", "bob", "carol")
	f.joined("bob", "g")
	f.joined("carol", "g")
	if _, err := f.db.Doc(model.BlockersPath("alice")).Set(f.ctx, model.Blockers{By: []string{"bob"}, UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	last := f.send(f.env.UserClient("alice", nil), "alice", "g", "hi", "bob", "carol")
	f.eventually("counts from the index", func() string {
		if r := f.roomDoc("g"); r.LastMessage == nil || r.LastMessage.ID != last {
			return "room not at the message yet"
		}
		if s := f.unreadState("bob", map[string][2]int{"g": {0, 0}}); s != "" {
			return s
		}
		return f.unreadState("carol", map[string][2]int{"g": {1, 1}})
	})
}
