package functions

import (
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestMessageLifecycle drives a group room through the local door end to end: clients
// send, read, edit and delete; the test waits for the room, every inbox entry and badge.
func TestMessageLifecycle(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, u := range []string{"alice", "bob", "carol"} {
		f.user(u, map[string]string{"alice": "Alice", "bob": "Bob", "carol": "Carol"}[u], nil)
	}
	f.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
	f.eventually("joined", func() string {
		for _, u := range []string{"alice", "bob", "carol"} {
			e, ok := f.entry(u, "team")
			if !ok {
				return "no inbox entry for " + u
			}
			if e.Title != "Team" || e.Type != model.RoomGroup || e.RoomID != "team" {
				return fmt.Sprintf("entry of %s = %+v", u, e)
			}
			var ms model.Membership
			if !f.get(model.MembershipPath(u, "team"), &ms) {
				return "no membership for " + u
			}
			if ms.Notifications != model.NotifyAll || ms.LastReadAt.IsZero() {
				return fmt.Sprintf("membership of %s = %+v", u, ms)
			}
		}
		return ""
	})

	alice, bob, carol := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil), f.env.UserClient("carol", nil)
	m1 := f.send(alice, "alice", "team", "hello team")
	m2 := f.send(alice, "alice", "team", "carol, look", "carol")
	f.eventually("two messages fanned out", func() string {
		r := f.roomDoc("team")
		if r.MessageCount != 2 || r.LastMessage == nil || r.LastMessage.ID != m2 {
			return fmt.Sprintf("room = count %d last %+v", r.MessageCount, r.LastMessage)
		}
		if r.LastMessage.SenderName != "Alice" || r.LastMessage.Preview != "carol, look" || !r.LastMessageAt.Equal(r.LastMessage.SentAt) {
			return fmt.Sprintf("room lastMessage = %+v at %v", r.LastMessage, r.LastMessageAt)
		}
		want := map[string][2]int{"alice": {0, 0}, "bob": {2, 0}, "carol": {2, 1}}
		for u, w := range want {
			e, _ := f.entry(u, "team")
			if e.UnreadCount != w[0] || e.MentionCount != w[1] || e.LastMessage == nil || e.LastMessage.ID != m2 {
				return fmt.Sprintf("entry of %s = unread %d mentions %d last %+v, want %v", u, e.UnreadCount, e.MentionCount, e.LastMessage, w)
			}
			if c := f.badge(u); c.Unread != w[0] || c.Mentions != w[1] {
				return fmt.Sprintf("badge of %s = %+v, want %v", u, c, w)
			}
		}
		return ""
	})

	// Bob reads the first message: one unread left; receipts on by default.
	f.markRead(bob, "bob", "team", m1)
	f.eventually("bob read m1", func() string {
		e, _ := f.entry("bob", "team")
		if e.UnreadCount != 1 || f.badge("bob").Unread != 1 {
			return fmt.Sprintf("bob unread = %d, total %d, want 1", e.UnreadCount, f.badge("bob").Unread)
		}
		m, _ := f.member("team", "bob")
		if m.ReadMessageID != m1 || m.ReadAt.IsZero() {
			return fmt.Sprintf("bob's member doc = %+v, want readMessageId %s", m, m1)
		}
		return ""
	})

	// Alice edits m2: every preview follows.
	if _, err := alice.Doc(model.MessagePath("team", m2)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: "carol, look again"}, {Path: "editedAt", Value: firestore.ServerTimestamp},
	}); err != nil {
		t.Fatal(err)
	}
	f.eventually("edit", func() string {
		for _, u := range []string{"alice", "bob", "carol"} {
			if e, _ := f.entry(u, "team"); e.LastMessage == nil || e.LastMessage.Preview != "carol, look again" {
				return fmt.Sprintf("preview of %s = %+v", u, e.LastMessage)
			}
		}
		return ""
	})

	// Alice deletes m2 (a tombstone): the preview empties, unread and mentions drop.
	if _, err := alice.Doc(model.MessagePath("team", m2)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "mentions", Value: firestore.Delete},
		{Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatal(err)
	}
	f.eventually("delete", func() string {
		want := map[string][2]int{"alice": {0, 0}, "bob": {0, 0}, "carol": {1, 0}}
		for u, w := range want {
			e, _ := f.entry(u, "team")
			if e.LastMessage == nil || e.LastMessage.ID != m2 || e.LastMessage.Preview != "" {
				return fmt.Sprintf("preview of %s = %+v, want the tombstone of %s", u, e.LastMessage, m2)
			}
			if e.UnreadCount != w[0] || e.MentionCount != w[1] {
				return fmt.Sprintf("entry of %s = unread %d mentions %d, want %v", u, e.UnreadCount, e.MentionCount, w)
			}
			if c := f.badge(u); c.Unread != w[0] || c.Mentions != w[1] {
				return fmt.Sprintf("badge of %s = %+v, want %v", u, c, w)
			}
		}
		if r := f.roomDoc("team"); r.MessageCount != 2 {
			return fmt.Sprintf("messageCount = %d, want 2 (tombstones count)", r.MessageCount)
		}
		return ""
	})

	// Carol reads everything: her badge clears.
	m3 := f.send(bob, "bob", "team", "👋")
	f.eventually("m3", func() string {
		if e, _ := f.entry("carol", "team"); e.UnreadCount != 2 {
			return fmt.Sprintf("carol unread = %d, want 2", e.UnreadCount)
		}
		return ""
	})
	f.markRead(carol, "carol", "team", m3)
	f.eventually("carol read all", func() string {
		e, _ := f.entry("carol", "team")
		c := f.badge("carol")
		if e.UnreadCount != 0 || c.Unread != 0 || c.Mentions != 0 {
			return fmt.Sprintf("carol = entry %d, badge %+v", e.UnreadCount, c)
		}
		return ""
	})
}

// TestBadgeSumsRooms: the badge is the sum over the user's rooms, direct rooms included,
// and a direct room's entry is titled with the other user's name.
func TestBadgeSumsRooms(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.user("alice", "Alice", nil)
	f.user("bob", "Bob", nil)
	dm := model.DirectRoomID("alice", "bob")
	f.room("team", model.RoomGroup, "Team", "alice", "bob")
	f.room(dm, model.RoomDirect, "", "alice", "bob")
	alice := f.env.UserClient("alice", nil)
	f.joined("bob", dm, "team")
	f.send(alice, "alice", "team", "one")
	f.send(alice, "alice", dm, "two")
	f.send(alice, "alice", dm, "three")
	f.eventually("badge", func() string {
		e, _ := f.entry("bob", dm)
		if e.Title != "Alice" || e.UnreadCount != 2 {
			return fmt.Sprintf("bob's direct entry = title %q unread %d", e.Title, e.UnreadCount)
		}
		if e, _ := f.entry("alice", dm); e.Title != "Bob" {
			return fmt.Sprintf("alice's direct entry title = %q, want Bob", e.Title)
		}
		if c := f.badge("bob"); c.Unread != 3 {
			return fmt.Sprintf("bob's badge = %d, want 3", c.Unread)
		}
		return ""
	})
}

// TestOlderMessageNeverReplacesPreview: messages written with explicit times (admin
// client) arriving newest first leave the newest preview.
func TestOlderMessageNeverReplacesPreview(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	f.joined("bob", "r")
	base := time.Now().UTC().Truncate(time.Millisecond)
	write := func(id string, at time.Time) {
		t.Helper()
		if _, err := f.db.Doc(model.MessagePath("r", id)).Create(f.ctx, model.Message{SenderID: "alice", Type: model.MessageText, Text: id, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	write("c-newest", base.Add(3*time.Second))
	write("b-middle", base.Add(2*time.Second))
	write("a-oldest", base.Add(time.Second))
	write("a-tie", base.Add(3*time.Second)) // same time as c-newest: the id decides
	f.eventually("preview", func() string {
		r := f.roomDoc("r")
		e, _ := f.entry("bob", "r")
		if r.MessageCount != 4 || r.LastMessage == nil || r.LastMessage.ID != "c-newest" {
			return fmt.Sprintf("room = count %d last %+v", r.MessageCount, r.LastMessage)
		}
		if e.LastMessage == nil || e.LastMessage.ID != "c-newest" || e.UnreadCount != 4 {
			return fmt.Sprintf("bob's entry = unread %d last %+v", e.UnreadCount, e.LastMessage)
		}
		return ""
	})
}
