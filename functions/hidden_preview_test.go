package functions

import (
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestHiddenMessageLeavesPreview: a message hidden by reports (hidden = true, written by
// Hearth) stops being the room's and the members' preview text, the way a deleted
// message does (the place stays, the text goes); unhidden, its text comes back.
func TestHiddenMessageLeavesPreview(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	f.joined("bob", "r")
	at := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := f.db.Doc(model.MessagePath("r", "m1")).Create(f.ctx, model.Message{SenderID: "alice", Type: model.MessageText, Text: "abuse", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	preview := func(want string) func() string {
		return func() string {
			r := f.roomDoc("r")
			e, _ := f.entry("bob", "r")
			if r.LastMessage == nil || r.LastMessage.ID != "m1" || r.LastMessage.Preview != want {
				return fmt.Sprintf("room lastMessage = %+v, want m1 with preview %q", r.LastMessage, want)
			}
			if e.LastMessage == nil || e.LastMessage.ID != "m1" || e.LastMessage.Preview != want {
				return fmt.Sprintf("bob's entry lastMessage = %+v, want m1 with preview %q", e.LastMessage, want)
			}
			return ""
		}
	}
	f.eventually("preview of m1", preview("abuse"))
	hide := func(v bool) {
		t.Helper()
		if _, err := f.db.Doc(model.MessagePath("r", "m1")).Update(f.ctx, []firestore.Update{{Path: model.FieldHidden, Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	hide(true)
	f.eventually("preview of hidden m1", preview(""))
	hide(false)
	f.eventually("preview of unhidden m1", preview("abuse"))
}
