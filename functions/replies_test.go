package functions

import (
	"fmt"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/model"
)

// reply writes a text reply to parentID as uid through an end-user client and returns
// its id.
func (f *fixture) reply(c *firestore.Client, uid, roomID, parentID, text string) (string, error) {
	id := fmt.Sprintf("m%06d-%s", msgSeq.Add(1), uid)
	_, err := c.Doc(model.MessagePath(roomID, id)).Create(f.ctx, map[string]any{
		"senderId": uid, "type": "text", "text": text, "replyTo": parentID, "createdAt": firestore.ServerTimestamp,
	})
	return id, err
}

// replyPreview reads the replyPreview of a message (nil when it has none).
func (f *fixture) replyPreview(roomID, id string) *model.ReplyPreview {
	f.t.Helper()
	var m model.Message
	if !f.get(model.MessagePath(roomID, id), &m) {
		f.t.Fatalf("message %s/%s is gone", roomID, id)
	}
	return m.ReplyPreview
}

// wantPreview waits until message id of roomID quotes want.
func (f *fixture) wantPreview(what, roomID, id string, want model.ReplyPreview) {
	f.t.Helper()
	f.eventually(what, func() string {
		if got := f.replyPreview(roomID, id); got == nil || *got != want {
			return fmt.Sprintf("replyPreview of %s = %+v, want %+v", id, got, want)
		}
		return ""
	})
}

// TestReplyPreview: a reply gets a quote of its parent (sender, type, the text cut to
// model.MaxPreviewLen); the quote follows the parent's edit, its deletion (no deleted text
// is left in a quote) and its purge; late or repeated events change nothing; and a reply
// to a message of another room is refused by the rules.
func TestReplyPreview(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.user("alice", "Alice", nil)
	f.user("bob", "Bob", nil)
	f.user("carol", "Carol", nil)
	f.room("g", model.RoomGroup, "Group", "alice", "bob")
	f.room("h", model.RoomGroup, "Other", "carol", "bob")
	f.joined("bob", "g", "h")
	alice, bob := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil)

	long := strings.Repeat("long words ", 40)
	parent := f.send(alice, "alice", "g", long)
	r1, err := f.reply(bob, "bob", "g", parent, "agreed")
	if err != nil {
		t.Fatal(err)
	}
	quote := model.ReplyPreview{ID: parent, SenderID: "alice", SenderName: "Alice", Type: model.MessageText, Text: model.PreviewOf(long)}
	f.wantPreview("quote of the parent", "g", r1, quote)
	if n := len([]rune(quote.Text)); n != model.MaxPreviewLen {
		t.Errorf("quoted text has %d runes, want the cut to %d", n, model.MaxPreviewLen)
	}

	// The parent is edited: the quote follows.
	if _, err := alice.Doc(model.MessagePath("g", parent)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: "short now"}, {Path: "editedAt", Value: firestore.ServerTimestamp},
	}); err != nil {
		t.Fatal(err)
	}
	quote.Text = "short now"
	f.wantPreview("quote after the edit", "g", r1, quote)

	// A second reply, then the parent is deleted: both quotes lose the text.
	r2, err := f.reply(alice, "alice", "g", parent, "me too")
	if err != nil {
		t.Fatal(err)
	}
	f.wantPreview("second reply", "g", r2, quote)
	if _, err := alice.Doc(model.MessagePath("g", parent)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "alice"},
	}); err != nil {
		t.Fatal(err)
	}
	gone := model.ReplyPreview{ID: parent, SenderID: "alice", Type: model.MessageText, Deleted: true}
	f.wantPreview("first reply after the deletion", "g", r1, gone)
	f.wantPreview("second reply after the deletion", "g", r2, gone)

	// A late, repeated "created" event of the parent and of a reply (the parent's text in
	// it) changes nothing: the quote is computed from the stored parent.
	stale := model.Message{SenderID: "alice", Type: model.MessageText, Text: long}
	for range 2 {
		if err := f.p.inbox.SyncReplies(f.ctx, "g", parent, model.Message{}, stale); err != nil {
			t.Fatal(err)
		}
		if err := f.p.inbox.SyncReplies(f.ctx, "g", r1, model.Message{}, model.Message{SenderID: "bob", Type: model.MessageText, Text: "agreed", ReplyTo: parent}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.replyPreview("g", r1); got == nil || *got != gone {
		t.Errorf("after stale events: replyPreview = %+v, want %+v", got, gone)
	}

	// A purged parent (hard-deleted by Hearth) is quoted as deleted too.
	p2 := f.send(bob, "bob", "g", "to be purged")
	r3, err := f.reply(alice, "alice", "g", p2, "purge it")
	if err != nil {
		t.Fatal(err)
	}
	f.wantPreview("reply before the purge", "g", r3, model.ReplyPreview{ID: p2, SenderID: "bob", SenderName: "Bob", Type: model.MessageText, Text: "to be purged"})
	if _, err := f.db.Doc(model.MessagePath("g", p2)).Delete(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.wantPreview("reply after the purge", "g", r3, model.ReplyPreview{ID: p2, Deleted: true})

	// Bob belongs to both rooms and can read carol's message in h; a reply to it from g
	// is refused, and so is a reply to a message that does not exist.
	inH := f.send(f.env.UserClient("carol", nil), "carol", "h", "secret of room h")
	for _, target := range []string{inH, "m-missing"} {
		if _, err := f.reply(bob, "bob", "g", target, "cross-room"); status.Code(err) != codes.PermissionDenied {
			t.Errorf("reply in g to %s = %v, want PermissionDenied", target, err)
		}
	}
	// Written past the rules (by an admin tool), such a reply still never quotes room h:
	// replyTo is looked up in the reply's own room only. An id that is no id is ignored.
	forged := f.db.Collection(model.MessagesCollectionPath("g")).NewDoc()
	if _, err := forged.Create(f.ctx, model.Message{SenderID: "bob", Type: model.MessageText, Text: "x", ReplyTo: inH}); err != nil {
		t.Fatal(err)
	}
	f.wantPreview("forged cross-room reply", "g", forged.ID, model.ReplyPreview{ID: inH, Deleted: true})
	bad := f.db.Collection(model.MessagesCollectionPath("g")).NewDoc()
	if _, err := bad.Create(f.ctx, model.Message{SenderID: "bob", Type: model.MessageText, Text: "y", ReplyTo: "../../h/messages/" + inH}); err != nil {
		t.Fatal(err)
	}
	if err := f.p.inbox.SyncReplies(f.ctx, "g", bad.ID, model.Message{}, model.Message{SenderID: "bob", ReplyTo: "../../h/messages/" + inH}); err != nil {
		t.Errorf("SyncReplies(invalid replyTo) = %v, want nil", err)
	}
	if got := f.replyPreview("g", bad.ID); got != nil {
		t.Errorf("replyPreview of a reply to an invalid id = %+v, want none", got)
	}
}
