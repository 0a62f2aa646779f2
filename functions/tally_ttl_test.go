package functions

import (
	"fmt"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestTallyExpireAt: a message's tally carries expireAt = createdAt + TallyRetention for
// the TTL policy; a message older than the retention whose tally is gone changes no count
// and gets no tally again.
func TestTallyExpireAt(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	f.joined("bob", "r")
	at := time.Now().UTC().Truncate(time.Millisecond)
	old := at.Add(-model.TallyRetention - time.Hour)
	for id, created := range map[string]time.Time{"new": at, "old": old} {
		if _, err := f.db.Doc(model.MessagePath("r", id)).Create(f.ctx, model.Message{SenderID: "alice", Type: model.MessageText, Text: id, CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
	}
	f.eventually("tally of the new message", func() string {
		var tl model.Tally
		if !f.get(model.TallyPath("r", "new"), &tl) {
			return "no tally"
		}
		if want := at.Add(model.TallyRetention); !tl.ExpireAt.Equal(want) {
			return fmt.Sprintf("expireAt = %v, want %v", tl.ExpireAt, want)
		}
		if e, _ := f.entry("bob", "r"); e.UnreadCount != 1 || f.roomDoc("r").MessageCount != 2 {
			return fmt.Sprintf("bob's unread = %d, room count %d; want 1 (the old message is past the retention), 2", e.UnreadCount, f.roomDoc("r").MessageCount)
		}
		return ""
	})
	// The fan-out of the old message, run here to its end (the trigger's may still be
	// under way): it writes no tally and counts nothing.
	if err := inbox.New(f.db, clock.System{}).FanOut(f.ctx, "r", "old", "alice", []string{"alice", "bob"}); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.entry("bob", "r"); e.UnreadCount != 1 {
		t.Errorf("bob's unread after the old message's fan-out = %d, want 1", e.UnreadCount)
	}
	if f.exists(model.TallyPath("r", "old")) {
		t.Error("a tally was written for a message past the retention")
	}
}
