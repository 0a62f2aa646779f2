package functions

import (
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestJoinLeaveBan: joining creates the private membership (lastReadAt = joinedAt,
// notifications "all") and the inbox entry, with earlier messages not unread; leaving
// and being banned delete both and take the entry's counts off the badge.
func TestJoinLeaveBan(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.user("alice", "Alice", nil)
	f.user("dave", "Dave", nil)
	f.user("erin", "Erin", nil)
	f.room("team", model.RoomGroup, "Team", "alice")
	alice := f.env.UserClient("alice", nil)
	f.eventually("alice joined", func() string {
		if _, ok := f.entry("alice", "team"); !ok {
			return "no entry"
		}
		return ""
	})
	before := f.send(alice, "alice", "team", "before dave")
	f.eventually("sent", func() string {
		if r := f.roomDoc("team"); r.LastMessage == nil || r.LastMessage.ID != before {
			return "room has no lastMessage yet"
		}
		return ""
	})

	for _, uid := range []string{"dave", "erin"} {
		f.addMember("team", uid)
	}
	f.eventually("dave and erin joined", func() string {
		for _, uid := range []string{"dave", "erin"} {
			e, ok := f.entry(uid, "team")
			if !ok {
				return "no entry for " + uid
			}
			if e.Title != "Team" || e.UnreadCount != 0 || e.LastMessage == nil || e.LastMessage.ID != before {
				return fmt.Sprintf("entry of %s = %+v", uid, e)
			}
			var ms model.Membership
			f.get(model.MembershipPath(uid, "team"), &ms)
			m, _ := f.member("team", uid)
			if !ms.LastReadAt.Equal(m.JoinedAt) || ms.Notifications != model.NotifyAll {
				return fmt.Sprintf("membership of %s = %+v, want lastReadAt %v", uid, ms, m.JoinedAt)
			}
		}
		return ""
	})

	f.send(alice, "alice", "team", "after", "dave", "erin")
	f.eventually("unread after join", func() string {
		for _, uid := range []string{"dave", "erin"} {
			if c := f.badge(uid); c.Unread != 1 || c.Mentions != 1 {
				return fmt.Sprintf("badge of %s = %+v", uid, c)
			}
		}
		return ""
	})

	f.removeMember("team", "dave", false)
	f.removeMember("team", "erin", true)
	f.eventually("left and banned", func() string {
		for _, uid := range []string{"dave", "erin"} {
			if f.exists(model.InboxEntryPath(uid, "team")) || f.exists(model.MembershipPath(uid, "team")) {
				return uid + " still has an entry or membership"
			}
			if c := f.badge(uid); c.Unread != 0 || c.Mentions != 0 {
				return fmt.Sprintf("badge of %s = %+v", uid, c)
			}
		}
		return ""
	})
	if m, ok := f.member("team", "erin"); !ok || !m.Banned {
		t.Errorf("erin's member doc = %+v (exists %v), want kept with banned", m, ok)
	}
}

// TestDeletedRoom: deleting a room removes its entries; a message event that arrives
// afterwards (a late delivery) recreates nothing.
func TestDeletedRoom(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("gone", model.RoomGroup, "Gone", "alice", "bob")
	alice := f.env.UserClient("alice", nil)
	f.joined("bob", "gone")
	m := f.send(alice, "alice", "gone", "hi")
	f.eventually("counted", func() string {
		if c := f.badge("bob"); c.Unread != 1 {
			return fmt.Sprintf("bob's total = %d", c.Unread)
		}
		return ""
	})
	if _, err := f.db.Doc(model.RoomPath("gone")).Delete(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.eventually("room gone", func() string {
		if f.exists(model.InboxEntryPath("bob", "gone")) || f.exists(model.MembershipPath("alice", "gone")) {
			return "entries remain"
		}
		if c := f.badge("bob"); c.Unread != 0 {
			return fmt.Sprintf("bob's total = %d", c.Unread)
		}
		return ""
	})
	// A late event for the message of the deleted room, straight to the handler.
	snap, err := f.db.Doc(model.MessagePath("gone", m)).Get(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := eventOf(t, snap, nil)
	if err := f.p.onMessageWritten(f.ctx, ev); err != nil {
		t.Fatalf("onMessageWritten(late) = %v", err)
	}
	if f.exists(model.RoomPath("gone")) || f.exists(model.InboxEntryPath("bob", "gone")) {
		t.Errorf("late event recreated the room or an entry")
	}
}

// TestRename: a new display name reaches the member docs, the other member's title of a
// direct room and the preview's senderName.
func TestRename(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.user("alice", "Alice", nil)
	f.user("bob", "Bob", nil)
	dm := model.DirectRoomID("alice", "bob")
	f.room(dm, model.RoomDirect, "", "alice", "bob")
	bob := f.env.UserClient("bob", nil)
	f.joined("alice", dm)
	f.send(bob, "bob", dm, "hi")
	f.eventually("sent", func() string {
		if e, _ := f.entry("alice", dm); e.LastMessage == nil || e.LastMessage.SenderName != "Bob" {
			return fmt.Sprintf("alice's entry = %+v", e.LastMessage)
		}
		return ""
	})
	for _, name := range []string{"Bobby", "Robert"} {
		if _, err := bob.Doc(model.UserPath("bob")).Update(f.ctx, []firestore.Update{
			{Path: "displayName", Value: name}, {Path: "displayNameChangedAt", Value: firestore.ServerTimestamp},
		}); err != nil {
			t.Fatal(err)
		}
		f.backdate(model.UserPath("bob"), "displayNameChangedAt", model.RenameInterval) // the next rename is a minute later
	}
	f.eventually("renamed", func() string {
		e, _ := f.entry("alice", dm)
		m, _ := f.member(dm, "bob")
		r := f.roomDoc(dm)
		if e.Title != "Robert" || e.LastMessage == nil || e.LastMessage.SenderName != "Robert" || m.DisplayName != "Robert" || r.LastMessage.SenderName != "Robert" {
			return fmt.Sprintf("title %q, preview sender %+v, member name %q, room sender %q", e.Title, e.LastMessage, m.DisplayName, r.LastMessage.SenderName)
		}
		return ""
	})
}

// TestMuted: mutedUntil in the future sets the entry's muted flag; clearing it unsets it.
func TestMuted(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	bob := f.env.UserClient("bob", nil)
	f.joined("bob", "r")
	for _, tc := range []struct {
		value any
		want  bool
	}{
		{time.Now().Add(time.Hour), true},
		{firestore.Delete, false},
	} {
		if _, err := bob.Doc(model.MembershipPath("bob", "r")).Update(f.ctx, []firestore.Update{{Path: "mutedUntil", Value: tc.value}}); err != nil {
			t.Fatal(err)
		}
		f.eventually("muted", func() string {
			if e, _ := f.entry("bob", "r"); e.Muted != tc.want {
				return fmt.Sprintf("muted = %v, want %v", e.Muted, tc.want)
			}
			return ""
		})
	}
}

// TestRoomRenamed: a group's new title and photo reach every member's inbox entry.
func TestRoomRenamed(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r", model.RoomGroup, "Old", "alice", "bob")
	f.joined("bob", "r")
	if _, err := f.db.Doc(model.RoomPath("r")).Update(f.ctx, []firestore.Update{
		{Path: "title", Value: "New"}, {Path: "photoURL", Value: "https://example.com/r.png"},
	}); err != nil {
		t.Fatal(err)
	}
	f.eventually("renamed", func() string {
		for _, uid := range []string{"alice", "bob"} {
			if e, _ := f.entry(uid, "r"); e.Title != "New" || e.PhotoURL != "https://example.com/r.png" {
				return fmt.Sprintf("%s's entry = title %q photo %q", uid, e.Title, e.PhotoURL)
			}
		}
		return ""
	})
}
