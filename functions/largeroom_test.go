package functions

import (
	"fmt"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
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
