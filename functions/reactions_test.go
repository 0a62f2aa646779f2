package functions

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// react writes uid's reactions on a message through an end-user client (the rules
// apply); no emoji deletes the reaction document.
func (f *fixture) react(c *firestore.Client, uid, roomID, messageID string, emoji ...string) error {
	ref := c.Doc(model.ReactionPath(roomID, messageID, uid))
	if len(emoji) == 0 {
		_, err := ref.Delete(f.ctx)
		return err
	}
	_, err := ref.Set(f.ctx, map[string]any{"emoji": emoji, "updatedAt": firestore.ServerTimestamp})
	return err
}

// reactionCounts reads the reactionCounts of a message (nil when it has none).
func (f *fixture) reactionCounts(roomID, id string) map[string]int {
	f.t.Helper()
	var m model.Message
	if !f.get(model.MessagePath(roomID, id), &m) {
		return nil
	}
	return m.ReactionCounts
}

// wantCounts waits until the message's reactionCounts equal want (nil: none at all).
func (f *fixture) wantCounts(what, roomID, id string, want map[string]int) {
	f.t.Helper()
	f.eventually(what, func() string {
		if got := f.reactionCounts(roomID, id); !maps.Equal(got, want) || (want == nil) != (got == nil) {
			return fmt.Sprintf("reactionCounts of %s = %v, want %v", id, got, want)
		}
		return ""
	})
}

// TestReactions: members toggle their reactions under the rules; the message's
// reactionCounts follow, exactly; deleting the message removes its reactions and
// refuses new ones.
func TestReactions(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, u := range []string{"alice", "bob", "carol"} {
		f.user(u, u, nil)
	}
	f.room("g", model.RoomGroup, "Group", "alice", "bob", "carol")
	alice, bob, carol := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil), f.env.UserClient("carol", nil)
	m := f.send(alice, "alice", "g", "lunch?")

	if err := f.react(bob, "bob", "g", m, "👍", "🔥"); err != nil {
		t.Fatal(err)
	}
	if err := f.react(carol, "carol", "g", m, "👍"); err != nil {
		t.Fatal(err)
	}
	f.wantCounts("two users", "g", m, map[string]int{"👍": 2, "🔥": 1})
	// "Reacted by me" is one get of one's own document.
	var mine model.Reaction
	if !f.get(model.ReactionPath("g", m, "bob"), &mine) || len(mine.Emoji) != 2 {
		t.Errorf("bob's reaction = %+v, want 2 emoji", mine)
	}

	if err := f.react(bob, "bob", "g", m, "❤️"); err != nil {
		t.Fatal(err)
	}
	f.wantCounts("bob changed his", "g", m, map[string]int{"👍": 1, "❤️": 1})
	if err := f.react(carol, "carol", "g", m); err != nil {
		t.Fatal(err)
	}
	f.wantCounts("carol removed hers", "g", m, map[string]int{"❤️": 1})
	if err := f.react(bob, "bob", "g", m, "👍", "😂", "🎉", "🔥"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("four emoji = %v, want PermissionDenied", err)
	}
	if err := f.react(carol, "carol", "g", m, "🍕"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an emoji outside the set = %v, want PermissionDenied", err)
	}

	// The author deletes the message: its reactions go, and no new one is accepted.
	if _, err := alice.Doc(model.MessagePath("g", m)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatal(err)
	}
	f.wantCounts("message deleted", "g", m, nil)
	f.eventually("reaction documents removed", func() string {
		if f.exists(model.ReactionPath("g", m, "bob")) {
			return "bob's reaction is still there"
		}
		return ""
	})
	if err := f.react(carol, "carol", "g", m, "👍"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("reacting to a deleted message = %v, want PermissionDenied", err)
	}

	// A purged message (hard-deleted by Hearth) loses its reactions and their markers.
	m2 := f.send(alice, "alice", "g", "to be purged")
	if err := f.react(bob, "bob", "g", m2, "😮"); err != nil {
		t.Fatal(err)
	}
	f.wantCounts("before the purge", "g", m2, map[string]int{"😮": 1})
	if _, err := f.db.Doc(model.MessagePath("g", m2)).Delete(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.eventually("purged message's reactions removed", func() string {
		for _, p := range []string{model.ReactionPath("g", m2, "bob"), model.ReactionMarkPath("g", m2, "bob")} {
			if f.exists(p) {
				return p + " is still there"
			}
		}
		return ""
	})
}

// TestReactionEventsDuplicatedAndReordered delivers reaction events straight to the
// trigger, each twice and in reverse order, with versions of the document written past
// the rules (a forged one among them): the counts always equal what the documents hold
// now, counting only allowed, distinct emoji, at most MaxReactionsPerUser per user.
func TestReactionEventsDuplicatedAndReordered(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	f.room("r", model.RoomGroup, "R", "alice", "bob", "carol")
	msgRef := f.db.Doc(model.MessagePath("r", "m1"))
	if _, err := msgRef.Set(f.ctx, model.Message{SenderID: "alice", Type: model.MessageText, Text: "hi", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	vs := f.versions()
	write := func(uid string, emoji ...string) *firestoreevent.Event {
		t.Helper()
		if emoji == nil {
			return vs.write(model.ReactionPath("r", "m1", uid), nil)
		}
		return vs.write(model.ReactionPath("r", "m1", uid), model.Reaction{Emoji: emoji, UpdatedAt: time.Now()})
	}
	deliver := func(evs ...*firestoreevent.Event) {
		t.Helper()
		f.deliver(TriggerReactionWritten, evs...)
	}
	check := func(step string, want map[string]int) {
		t.Helper()
		if got := f.reactionCounts("r", "m1"); !maps.Equal(got, want) {
			t.Fatalf("%s: reactionCounts = %v, want %v", step, got, want)
		}
	}

	b1 := write("bob", "👍")
	b2 := write("bob", "👍", "🔥")
	deliver(b2, b1, b1, b2)
	check("bob's two versions, reordered and twice", map[string]int{"👍": 1, "🔥": 1})
	c1 := write("carol", "👍", "🍕", "👍", "🔥", "❤️", "🎉") // past the rules
	deliver(c1, c1)
	check("carol's forged document", map[string]int{"👍": 2, "🔥": 2, "❤️": 1})
	b3 := write("bob")
	deliver(b3, b2, b1, b3)
	check("bob removed his, late events after", map[string]int{"👍": 1, "🔥": 1, "❤️": 1})

	// Ten users at once.
	var wg sync.WaitGroup
	evs := make([]*firestoreevent.Event, 10)
	for i := range evs {
		evs[i] = write(fmt.Sprintf("u%02d", i), "🎉")
	}
	errs := make(chan error, 2*len(evs))
	for _, ev := range append(evs, evs...) {
		wg.Go(func() {
			tr, _ := f.p.trigger(TriggerReactionWritten)
			errs <- f.p.run(f.ctx, tr, ev)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	check("ten users at once, each event twice", map[string]int{"👍": 1, "🔥": 1, "❤️": 1, "🎉": 10})

	// The message is deleted: its deletion event removes every reaction; late reaction
	// events count nothing again.
	before := f.snapshot(relPath(msgRef.Path))
	if _, err := msgRef.Update(f.ctx, []firestore.Update{{Path: "text", Value: ""}, {Path: "deletedAt", Value: time.Now()}, {Path: "deletedBy", Value: "alice"}}); err != nil {
		t.Fatal(err)
	}
	del := eventOf(t, f.snapshot(relPath(msgRef.Path)), before)
	f.deliver(TriggerMessageWritten, del)
	check("message deleted", nil)
	deliver(c1, evs[0], b2)
	f.deliver(TriggerMessageWritten, del)
	check("late reaction events after the deletion", nil)
	if f.exists(model.ReactionPath("r", "m1", "carol")) {
		t.Error("carol's reaction outlived the message's deletion")
	}

	// The message is purged: its event removes the markers, and a reaction event that
	// arrives after it (the deletion of a reaction document, which the purge's own sync
	// causes, or any late one) must not bring a marker back.
	beforePurge := f.snapshot(relPath(msgRef.Path))
	if _, err := msgRef.Delete(f.ctx); err != nil {
		t.Fatal(err)
	}
	purge := eventOf(t, f.snapshot(relPath(msgRef.Path)), beforePurge)
	f.deliver(TriggerMessageWritten, purge)
	deliver(b3, c1, evs[1])
	f.deliver(TriggerMessageWritten, purge)
	deliver(b2)
	for _, uid := range []string{"bob", "carol", "u00", "u01"} {
		for _, p := range []string{model.ReactionPath("r", "m1", uid), model.ReactionMarkPath("r", "m1", uid)} {
			if f.exists(p) {
				t.Errorf("%s outlived the purge of its message", p)
			}
		}
	}
}

// reactionParts records the push side of reactions besides the other parts.
type reactionParts struct{ parts }

func (r *reactionParts) HandleReactionWritten(_ context.Context, ev *firestoreevent.Event) error {
	r.record("push.reaction", ev)
	return nil
}

// TestReactionDispatch: a reaction written through the rules reaches the counts and,
// while the document exists, the push side (a Notifier that is a ReactionNotifier),
// through the one trigger onReactionWritten.
func TestReactionDispatch(t *testing.T) {
	rec := &reactionParts{}
	f := newFixture(t, fixtureOpts{notifier: rec})
	for _, u := range []string{"alice", "bob"} {
		f.user(u, u, nil)
	}
	f.room("g", model.RoomGroup, "Group", "alice", "bob")
	bob := f.env.UserClient("bob", nil)
	m := f.send(f.env.UserClient("alice", nil), "alice", "g", "hi")
	if err := f.react(bob, "bob", "g", m, "👀"); err != nil {
		t.Fatal(err)
	}
	doc := model.ReactionPath("g", m, "bob")
	f.wantCounts("counted", "g", m, map[string]int{"👀": 1})
	f.eventually("push part called", func() string {
		if rec.count("push.reaction", doc) != 1 {
			return "push part not called for the reaction"
		}
		return ""
	})
	if err := f.react(bob, "bob", "g", m); err != nil {
		t.Fatal(err)
	}
	f.wantCounts("removed", "g", m, nil)
	if n := rec.count("push.reaction", doc); n != 1 {
		t.Errorf("push part called %d times, want once (not for the deletion)", n)
	}
}
