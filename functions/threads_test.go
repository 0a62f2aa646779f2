package functions

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/threads"
)

// threadSummary is what a root message says about its thread.
type threadSummary struct {
	count    int
	lastAt   time.Time
	repliers []string
}

func (f *fixture) thread(roomID, rootID string) threadSummary {
	f.t.Helper()
	var m model.Message
	f.get(model.MessagePath(roomID, rootID), &m)
	return threadSummary{m.ReplyCount, m.LastReplyAt, m.LastRepliers}
}

func (f *fixture) createdAt(roomID, id string) time.Time {
	f.t.Helper()
	var m model.Message
	if !f.get(model.MessagePath(roomID, id), &m) {
		f.t.Fatalf("no message %s/%s", roomID, id)
	}
	return m.CreatedAt
}

func (s threadSummary) differs(want threadSummary) string {
	if s.count != want.count || !s.lastAt.Equal(want.lastAt) || !slices.Equal(s.repliers, want.repliers) {
		return fmt.Sprintf("thread = %d %v %v, want %d %v %v", s.count, s.lastAt, s.repliers, want.count, want.lastAt, want.repliers)
	}
	return ""
}

// TestThreadSummary: replies through the rules and the triggers keep replyCount,
// lastReplyAt and lastRepliers on the root exact as replies come, are deleted and are
// purged; everyone who replied is a participant.
func TestThreadSummary(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, u := range []string{"alice", "bob", "carol"} {
		f.user(u, u, nil)
	}
	f.room("g", model.RoomGroup, "Group", "alice", "bob", "carol")
	alice, bob, carol := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil), f.env.UserClient("carol", nil)
	root := f.send(alice, "alice", "g", "thoughts?")
	mustReply := func(c *firestore.Client, uid, text string) string {
		t.Helper()
		id, err := f.reply(c, uid, "g", root, text)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	r1 := mustReply(bob, "bob", "one")
	r2 := mustReply(carol, "carol", "two")
	r3 := mustReply(bob, "bob", "three")
	want := threadSummary{3, f.createdAt("g", r3), []string{"bob", "carol"}}
	f.eventually("three replies", func() string { return f.thread("g", root).differs(want) })

	// bob deletes his newest reply: the count and the summary step back.
	if _, err := bob.Doc(model.MessagePath("g", r3)).Update(f.ctx, []firestore.Update{
		{Path: "text", Value: ""}, {Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: "bob"},
	}); err != nil {
		t.Fatal(err)
	}
	want = threadSummary{2, f.createdAt("g", r2), []string{"carol", "bob"}}
	f.eventually("newest reply deleted", func() string { return f.thread("g", root).differs(want) })

	// carol's reply is purged by Hearth.
	if _, err := f.db.Doc(model.MessagePath("g", r2)).Delete(f.ctx); err != nil {
		t.Fatal(err)
	}
	want = threadSummary{1, f.createdAt("g", r1), []string{"bob"}}
	f.eventually("a reply purged", func() string { return f.thread("g", root).differs(want) })

	got, err := threads.Participants(f.ctx, f.db, "g", root)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"bob", "carol"}) {
		t.Errorf("Participants = %v, %v; want [bob carol] (everyone who replied)", got, err)
	}
	// The root's derived fields are Hearth's: its author cannot forge them.
	if _, err := alice.Doc(model.MessagePath("g", root)).Update(f.ctx, []firestore.Update{{Path: "replyCount", Value: 99}}); err == nil {
		t.Error("the root's author wrote replyCount")
	}
}

// TestThreadEventsDuplicatedAndReordered delivers the events of replies straight to the
// message trigger, twice and in reverse order: the root's summary is always that of the
// replies as stored.
func TestThreadEventsDuplicatedAndReordered(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	f.room("r", model.RoomGroup, "R", "alice", "bob", "carol")
	base := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := f.db.Doc(model.MessagePath("r", "root")).Set(f.ctx, model.Message{SenderID: "alice", Type: model.MessageText, Text: "q", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	vs := f.versions()
	write := func(id string, m *model.Message) *firestoreevent.Event {
		t.Helper()
		return vs.message("r", id, m)
	}
	reply := func(sender string, at time.Duration) *model.Message {
		return &model.Message{SenderID: sender, Type: model.MessageText, Text: "re", ReplyTo: "root", CreatedAt: base.Add(at)}
	}
	deliver := func(evs ...*firestoreevent.Event) {
		t.Helper()
		f.deliver(TriggerMessageWritten, evs...)
	}
	check := func(step string, want threadSummary) {
		t.Helper()
		if d := f.thread("r", "root").differs(want); d != "" {
			t.Fatalf("%s: %s", step, d)
		}
	}

	a := write("a", reply("bob", time.Second))
	b := write("b", reply("carol", 2*time.Second))
	c := write("c", reply("bob", 3*time.Second))
	deliver(c, b, a, c, a, b)
	check("three replies, reversed and twice", threadSummary{3, base.Add(3 * time.Second), []string{"bob", "carol"}})

	tomb := *reply("bob", 3*time.Second)
	tomb.Text, tomb.DeletedAt, tomb.DeletedBy = "", base.Add(time.Minute), "bob"
	cDel := write("c", &tomb)
	deliver(cDel, c, cDel)
	check("newest deleted, its creation late", threadSummary{2, base.Add(2 * time.Second), []string{"carol", "bob"}})

	bGone := write("b", nil)
	deliver(bGone, b, bGone, b)
	check("purged, its creation late", threadSummary{1, base.Add(time.Second), []string{"bob"}})

	aGone := write("a", nil)
	cGone := write("c", nil)
	deliver(aGone, cGone, a, aGone)
	check("every reply gone", threadSummary{})

	// A reply naming a root that does not exist, or itself, counts nowhere.
	deliver(write("d", &model.Message{SenderID: "bob", Type: model.MessageText, Text: "x", ReplyTo: "missing", CreatedAt: base}))
	if f.exists(model.MessagePath("r", "missing")) {
		t.Error("a reply to a missing root created it")
	}
}
