package functions

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// apiRoom creates a room the way Hearth's API does (POST /v1/rooms, /v1/rooms/direct):
// the room, its member docs and a system message by the creator ("Alice created the
// group") in one transaction. It returns the system message's id.
func (f *fixture) apiRoom(id string, typ model.RoomType, title string, members ...string) string {
	f.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	sys := f.db.Collection(model.MessagesCollectionPath(id)).NewDoc()
	err := f.db.RunTransaction(f.ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		r := model.Room{Type: typ, Title: title, CreatedBy: members[0], CreatedAt: now,
			MemberIDs: members, MemberCount: len(members), LastMessageAt: now}
		if err := tx.Create(f.db.Doc(model.RoomPath(id)), r); err != nil {
			return err
		}
		for i, uid := range members {
			role := model.RoleMember
			if i == 0 && typ == model.RoomGroup {
				role = model.RoleOwner
			}
			if err := tx.Create(f.db.Doc(model.MemberPath(id, uid)), model.Member{Role: role, JoinedAt: now, DisplayName: uid}); err != nil {
				return err
			}
		}
		return tx.Create(sys, f.systemMessage(members[0], members[0]+" created the room"))
	})
	if err != nil {
		f.t.Fatalf("create room %s: %v", id, err)
	}
	return sys.ID
}

// systemMessage returns the fields of a system message by actor, as the API writes them.
func (f *fixture) systemMessage(actor, text string, mentions ...string) map[string]any {
	m := map[string]any{
		"senderId":  actor,
		"type":      string(model.MessageSystem),
		"text":      text,
		"createdAt": firestore.ServerTimestamp,
	}
	if len(mentions) > 0 {
		m["mentions"] = mentions
	}
	return m
}

// unreadState describes uid's entries in rooms and badge totals, and "" when they are
// the wanted (unread, mentions) per room and their sums.
func (f *fixture) unreadState(uid string, want map[string][2]int) string {
	f.t.Helper()
	var su, sm int
	for roomID, w := range want {
		e, ok := f.entry(uid, roomID)
		if !ok {
			return fmt.Sprintf("no entry of %s in %s", uid, roomID)
		}
		if e.UnreadCount != w[0] || e.MentionCount != w[1] {
			return fmt.Sprintf("entry of %s in %s = unread %d mentions %d, want %v", uid, roomID, e.UnreadCount, e.MentionCount, w)
		}
		su, sm = su+w[0], sm+w[1]
	}
	if c := f.badge(uid); c.Unread != su || c.Mentions != sm {
		return fmt.Sprintf("badge of %s = unread %d mentions %d, want %d %d", uid, c.Unread, c.Mentions, su, sm)
	}
	return ""
}

// TestUnreadSemantics is the report of issue 15: Alice creates a group with Bob and
// sends 20 messages; Alice also opened a direct room with Bob and wrote nothing in it.
// Bob's inbox must show 20 unread and his badge 20: the rooms' system messages count
// for nobody, the empty direct room adds nothing, and Alice's own messages count
// nothing for her.
func TestUnreadSemantics(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.user("alice", "Alice", nil)
	f.user("bob", "Bob", nil)
	direct := model.DirectRoomID("alice", "bob")
	f.apiRoom("g", model.RoomGroup, "Group", "alice", "bob")
	f.apiRoom(direct, model.RoomDirect, "", "alice", "bob")
	f.joined("bob", "g", direct)
	f.joined("alice", "g", direct)

	alice, bob := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil)
	var last string
	for i := range 20 {
		last = f.send(alice, "alice", "g", fmt.Sprintf("message %d", i+1))
	}
	f.eventually("20 messages from alice", func() string {
		if r := f.roomDoc("g"); r.MessageCount != 21 || r.LastMessage == nil || r.LastMessage.ID != last {
			return fmt.Sprintf("room g = count %d last %+v, want 21 (20 + the system message), %s", r.MessageCount, r.LastMessage, last)
		}
		if s := f.unreadState("bob", map[string][2]int{"g": {20, 0}, direct: {0, 0}}); s != "" {
			return s
		}
		return f.unreadState("alice", map[string][2]int{"g": {0, 0}, direct: {0, 0}})
	})

	// A system message that names Bob (as "Alice added Bob" may) is no mention and no
	// unread; Bob's own message counts nothing for him; a message Alice deletes drops out.
	sys := f.db.Collection(model.MessagesCollectionPath("g")).NewDoc()
	if _, err := sys.Create(f.ctx, f.systemMessage("alice", "Alice added Bob", "bob")); err != nil {
		t.Fatal(err)
	}
	f.send(bob, "bob", "g", "hi alice", "alice")
	ping := f.send(alice, "alice", "g", "bob?", "bob")
	if _, err := alice.Doc(model.MessagePath("g", last)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatal(err)
	}
	f.eventually("system mention, own message, deletion", func() string {
		if r := f.roomDoc("g"); r.MessageCount != 24 || r.LastMessage == nil || r.LastMessage.ID != ping {
			return fmt.Sprintf("room g = count %d last %+v, want 24, %s", r.MessageCount, r.LastMessage, ping)
		}
		// 20 - the deleted one + "bob?" = 20 unread for Bob, 1 mention.
		if s := f.unreadState("bob", map[string][2]int{"g": {20, 1}, direct: {0, 0}}); s != "" {
			return s
		}
		return f.unreadState("alice", map[string][2]int{"g": {1, 1}, direct: {0, 0}})
	})

	// A redacted system message (a tombstone of type system) takes nothing away either.
	if _, err := sys.Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "mentions", Value: firestore.Delete},
		{Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatal(err)
	}
	// Events arrive in order: once the next message is counted, the redaction was seen.
	next := f.send(alice, "alice", "g", "still there?")
	f.eventually("redacted system message", func() string {
		if r := f.roomDoc("g"); r.MessageCount != 25 || r.LastMessage == nil || r.LastMessage.ID != next {
			return fmt.Sprintf("room g = count %d last %+v, want 25, %s", r.MessageCount, r.LastMessage, next)
		}
		if s := f.unreadState("bob", map[string][2]int{"g": {21, 1}, direct: {0, 0}}); s != "" {
			return s
		}
		return f.unreadState("alice", map[string][2]int{"g": {1, 1}, direct: {0, 0}})
	})
}

// TestUnreadRuleDuplicatesAndReordering delivers message events straight to the handler
// (no triggers registered): system messages, a message of Bob's own and a deleted one,
// every event twice and the deletion before the creation. Bob's counts and badge count
// only Alice's live messages after every step.
func TestUnreadRuleDuplicatesAndReordering(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	for _, uid := range []string{"alice", "bob"} {
		f.deliver(TriggerMemberWritten, eventOf(t, f.snapshot(model.MemberPath("r", uid)), nil))
	}
	base := time.Now().UTC().Truncate(time.Microsecond).Add(time.Second)
	vs := f.versions()
	write := func(id string, m model.Message) *firestoreevent.Event {
		t.Helper()
		return vs.message("r", id, &m)
	}
	deliver := func(evs ...*firestoreevent.Event) {
		t.Helper()
		f.deliver(TriggerMessageWritten, evs...)
	}
	// check wants bob's counts and badge at unread/mentions and alice's at what bob's
	// message b1 (once sent) gives her: 1/1.
	aliceWant := 0
	check := func(step string, unread, mentions int) {
		t.Helper()
		e, _ := f.entry("bob", "r")
		c := f.badge("bob")
		if e.UnreadCount != unread || e.MentionCount != mentions || c.Unread != unread || c.Mentions != mentions {
			t.Fatalf("%s: bob = entry %d/%d badge %d/%d, want %d/%d", step, e.UnreadCount, e.MentionCount, c.Unread, c.Mentions, unread, mentions)
		}
		if a, _ := f.entry("alice", "r"); a.UnreadCount != aliceWant || a.MentionCount != aliceWant {
			t.Fatalf("%s: alice = %d/%d, want %d/%d (her own and system messages never count)", step, a.UnreadCount, a.MentionCount, aliceWant, aliceWant)
		}
	}
	at := func(d time.Duration) time.Time { return base.Add(d) }

	s1 := write("s1", model.Message{SenderID: "alice", Type: model.MessageSystem, Text: "alice created the group", CreatedAt: at(0)})
	deliver(s1, s1)
	check("created message twice", 0, 0)

	s2 := write("s2", model.Message{SenderID: "alice", Type: model.MessageSystem, Text: "alice added bob", Mentions: []string{"bob"}, CreatedAt: at(time.Second)})
	deliver(s2, s2)
	check("system message naming bob twice", 0, 0)

	m1 := write("m1", model.Message{SenderID: "alice", Type: model.MessageText, Text: "hi @bob", Mentions: []string{"bob"}, CreatedAt: at(2 * time.Second)})
	b1 := write("b1", model.Message{SenderID: "bob", Type: model.MessageText, Text: "hi @alice", Mentions: []string{"alice"}, CreatedAt: at(3 * time.Second)})
	deliver(b1, m1, b1, m1)
	aliceWant = 1
	check("alice's and bob's own, twice, reversed", 1, 1)

	// m2 created then deleted; the deletion arrives first, the creation twice after it.
	c2 := write("m2", model.Message{SenderID: "alice", Type: model.MessageText, Text: "oops", CreatedAt: at(4 * time.Second)})
	d2 := write("m2", model.Message{SenderID: "alice", Type: model.MessageText, CreatedAt: at(4 * time.Second), DeletedAt: at(time.Minute), DeletedBy: "alice"})
	deliver(d2, c2, c2)
	check("deleted before created", 1, 1)

	// A system message redacted (a system tombstone) subtracts nothing.
	x1 := write("s1", model.Message{SenderID: "alice", Type: model.MessageSystem, CreatedAt: at(0), DeletedAt: at(time.Minute), DeletedBy: "admin"})
	deliver(x1, s1, x1)
	check("system tombstone", 1, 1)
}
