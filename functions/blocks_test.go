package functions

import (
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestBlockedSenderNotCounted: Bob blocks Alice (users/bob/blocks/alice, indexed in
// blockers/alice). Her messages
// in a group they share — a mention of Bob included — count nothing for Bob, also when
// delivered twice or deleted; Carol's count for him, and Alice's still count for Carol.
func TestBlockedSenderNotCounted(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("g", model.RoomGroup, "G", "alice", "bob", "carol")
	f.joined("bob", "g")
	f.joined("carol", "g")
	if _, err := f.db.Doc(model.UserPath("bob")+"/blocks/alice").Set(f.ctx, map[string]any{"createdAt": time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	// The fan-outs read the block through alice's blockers index, which onBlockWritten
	// keeps: a block counts from the moment it is indexed.
	f.eventually("bob's block indexed", func() string { return f.blockersState("alice", "bob") })
	alice, carol := f.env.UserClient("alice", nil), f.env.UserClient("carol", nil)
	a1 := f.send(alice, "alice", "g", "hi all")
	f.send(alice, "alice", "g", "bob?", "bob")
	last := f.send(carol, "carol", "g", "hi bob", "bob")
	f.eventually("counts without the blocked sender", func() string {
		if r := f.roomDoc("g"); r.LastMessage == nil || r.LastMessage.ID != last {
			return "room not at carol's message yet"
		}
		if s := f.unreadState("bob", map[string][2]int{"g": {1, 1}}); s != "" {
			return s
		}
		return f.unreadState("carol", map[string][2]int{"g": {2, 0}})
	})

	// A duplicate of a blocked message's event, and its deletion, change nothing for Bob.
	f.deliver(TriggerMessageWritten, eventOf(t, f.snapshot(model.MessagePath("g", a1)), nil))
	if _, err := alice.Doc(model.MessagePath("g", a1)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatal(err)
	}
	f.eventually("deletion of a blocked message", func() string {
		if s := f.unreadState("carol", map[string][2]int{"g": {1, 0}}); s != "" {
			return s
		}
		return f.unreadState("bob", map[string][2]int{"g": {1, 1}})
	})
}
