package functions

import (
	"fmt"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestReceiptsPrivacy: read receipts reach the member doc only while the reader's
// settings.readReceipts is on; turning it off removes them, turning it on brings them
// back. The delivery pointer is mirrored either way. The member doc never carries the
// private membership's other fields.
func TestReceiptsPrivacy(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.user("alice", "Alice", nil)
	f.user("bob", "Bob", nil)
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	alice, bob := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil)
	f.joined("bob", "r")
	m1 := f.send(alice, "alice", "r", "one")
	f.markRead(bob, "bob", "r", m1)
	receipt := func(want string) func() string {
		return func() string {
			m, _ := f.member("r", "bob")
			if m.ReadMessageID != want || (want == "") != m.ReadAt.IsZero() {
				return fmt.Sprintf("bob's member doc: readMessageId %q readAt %v, want %q", m.ReadMessageID, m.ReadAt, want)
			}
			return ""
		}
	}
	f.eventually("receipt mirrored", receipt(m1))

	setReceipts := func(on bool) {
		t.Helper()
		if _, err := bob.Doc(model.UserPath("bob")).Update(f.ctx, []firestore.Update{{Path: "settings.readReceipts", Value: on}}); err != nil {
			t.Fatal(err)
		}
	}
	setReceipts(false)
	f.eventually("receipt removed", receipt(""))

	m2 := f.send(alice, "alice", "r", "two")
	f.markRead(bob, "bob", "r", m2)
	snap, err := bob.Doc(model.MessagePath("r", m2)).Get(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	delivered := snap.CreateTime
	if _, err := bob.Doc(model.MembershipPath("bob", "r")).Update(f.ctx, []firestore.Update{
		{Path: "lastDeliveredAt", Value: delivered},
		{Path: "notifications", Value: "mentions"},
		{Path: "mutedUntil", Value: delivered.Add(1e12)},
	}); err != nil {
		t.Fatal(err)
	}
	f.eventually("delivery mirrored, read not", func() string {
		m, _ := f.member("r", "bob")
		if !m.DeliveredAt.Equal(delivered) {
			return fmt.Sprintf("deliveredAt = %v, want %v", m.DeliveredAt, delivered)
		}
		if e, _ := f.entry("bob", "r"); e.UnreadCount != 0 || !e.Muted {
			return fmt.Sprintf("bob's entry = unread %d muted %v", e.UnreadCount, e.Muted)
		}
		return receipt("")()
	})
	// Nothing private on the member doc: only the public fields.
	msnap := f.snapshot(model.MemberPath("r", "bob"))
	for k := range msnap.Data() {
		switch k {
		case "role", "joinedAt", "displayName", "deliveredAt", "online", "lastSeen", "banned", "readAt", "readMessageId":
		default:
			t.Errorf("member doc has field %q", k)
		}
	}

	setReceipts(true)
	f.eventually("receipt back", receipt(m2))
}
