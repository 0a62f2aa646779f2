package functions

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestDuplicatesAndReordering delivers events straight to the handlers (no triggers are
// registered in this project): every event twice, and pairs of events in reverse order.
// After each step the room, the entries and the badges are exact.
func TestDuplicatesAndReordering(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	for _, uid := range []string{"alice", "bob", "alice"} { // alice's join twice
		f.deliver(TriggerMemberWritten, eventOf(t, f.snapshot(model.MemberPath("r", uid)), nil))
	}
	base := time.Now().UTC().Truncate(time.Microsecond).Add(time.Second)
	// write stores a message version with the admin client and returns the event that
	// took the document from the previous version to it.
	vs := f.versions()
	write := func(id string, m *model.Message) *firestoreevent.Event {
		t.Helper()
		return vs.message("r", id, m)
	}
	msg := func(text string, at time.Duration, mentions ...string) *model.Message {
		return &model.Message{SenderID: "alice", Type: model.MessageText, Text: text, Mentions: mentions, CreatedAt: base.Add(at)}
	}
	tomb := func(at time.Duration) *model.Message {
		return &model.Message{SenderID: "alice", Type: model.MessageText, CreatedAt: base.Add(at), DeletedAt: base.Add(time.Minute), DeletedBy: "alice"}
	}
	type want struct {
		count    int64
		last     string // room and entries' lastMessage id
		preview  string
		unread   int // bob's
		mentions int // bob's
	}
	check := func(step string, w want) {
		t.Helper()
		r := f.roomDoc("r")
		if r.MessageCount != w.count || r.LastMessage == nil || r.LastMessage.ID != w.last || r.LastMessage.Preview != w.preview {
			t.Fatalf("%s: room = count %d last %+v, want %+v", step, r.MessageCount, r.LastMessage, w)
		}
		for _, uid := range []string{"alice", "bob"} {
			e, _ := f.entry(uid, "r")
			if e.LastMessage == nil || *e.LastMessage != *r.LastMessage {
				t.Fatalf("%s: %s's preview = %+v, want %+v", step, uid, e.LastMessage, r.LastMessage)
			}
		}
		e, _ := f.entry("bob", "r")
		c := f.badge("bob")
		if e.UnreadCount != w.unread || e.MentionCount != w.mentions || c.Unread != w.unread || c.Mentions != w.mentions {
			t.Fatalf("%s: bob = entry %d/%d badge %d/%d, want %d/%d", step, e.UnreadCount, e.MentionCount, c.Unread, c.Mentions, w.unread, w.mentions)
		}
	}
	deliver := func(evs ...*firestoreevent.Event) {
		t.Helper()
		f.deliver(TriggerMessageWritten, evs...)
	}

	c1 := write("m1", msg("one", 1*time.Second, "bob"))
	deliver(c1, c1)
	check("m1 twice", want{1, "m1", "one", 1, 1})

	// m2 created then deleted (a tombstone); the deletion arrives first.
	c2 := write("m2", msg("two", 2*time.Second))
	d2 := write("m2", tomb(2*time.Second))
	deliver(d2, c2, d2, c2)
	check("m2 deleted before created", want{2, "m2", "", 1, 1})

	// m3 edited twice; the edits arrive newest first, then the create.
	c3 := write("m3", msg("three", 3*time.Second))
	e3a := write("m3", msg("three!", 3*time.Second))
	e3b := write("m3", msg("three!!", 3*time.Second, "bob"))
	deliver(e3b, e3a, c3, e3a)
	check("m3 edits reversed", want{3, "m3", "three!!", 2, 2})

	// An older message created late does not take the preview.
	c0 := write("m0", msg("zero", 0))
	deliver(c0, c0)
	check("m0 late", want{4, "m3", "three!!", 3, 2})

	// m3 hard-deleted (a purge): the previous message takes the preview; the late
	// duplicate of its creation counts nothing.
	x3 := write("m3", nil)
	deliver(x3, c3, x3, e3b)
	check("m3 purged", want{3, "m2", "", 2, 1})

	// Bob's read pointer moves twice; the events arrive in reverse order.
	ms := func(at time.Duration) *firestoreevent.Event {
		t.Helper()
		ref := f.db.Doc(model.MembershipPath("bob", "r"))
		old := f.snapshot(relPath(ref.Path))
		if _, err := ref.Update(f.ctx, []firestore.Update{{Path: "lastReadAt", Value: base.Add(at)}}); err != nil {
			t.Fatal(err)
		}
		return eventOf(t, f.snapshot(relPath(ref.Path)), old)
	}
	p1 := ms(500 * time.Millisecond)  // after m0
	p2 := ms(1500 * time.Millisecond) // after m1
	f.deliver(TriggerMembershipWritten, p2)
	f.deliver(TriggerMembershipWritten, p1)
	f.deliver(TriggerMembershipWritten, p1)
	check("pointer moves reversed", want{3, "m2", "", 0, 0})

	// Bob leaves; the member doc's deletion arrives twice, then its creation late.
	created := eventOf(t, f.snapshot(model.MemberPath("r", "bob")), nil)
	f.removeMember("r", "bob", false)
	left := &firestoreevent.Event{Meta: created.Meta, Kind: created.Kind, OldValue: created.Value}
	for _, ev := range []*firestoreevent.Event{left, left, created} {
		f.deliver(TriggerMemberWritten, ev)
	}
	if f.exists(model.InboxEntryPath("bob", "r")) || f.exists(model.MembershipPath("bob", "r")) {
		t.Errorf("after leave: bob's entry or membership exists")
	}
	if c := f.badge("bob"); c.Unread != 0 || c.Mentions != 0 {
		t.Errorf("after leave: bob's badge = %+v", c)
	}
}

// TestDoorsRedeliver: the same event posted twice to the local door and to the
// CloudEvents door counts once.
func TestDoorsRedeliver(t *testing.T) {
	f := newFixture(t, fixtureOpts{noEvents: true})
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	for _, uid := range []string{"alice", "bob"} {
		f.deliver(TriggerMemberWritten, eventOf(t, f.snapshot(model.MemberPath("r", uid)), nil))
	}
	local := httptest.NewServer(f.p.LocalHandler())
	defer local.Close()
	cloud := httptest.NewServer(f.p.CloudEventHandler())
	defer cloud.Close()
	postOK := func(url string, ev *firestoreevent.Event) {
		t.Helper()
		if got := post(t, url, ev); got != http.StatusNoContent {
			t.Fatalf("POST %s = %d, want %d", url, got, http.StatusNoContent)
		}
	}
	send := func(id string) *firestoreevent.Event {
		t.Helper()
		ref := f.db.Doc(model.MessagePath("r", id))
		if _, err := ref.Set(f.ctx, model.Message{SenderID: "alice", Type: model.MessageText, Text: id, CreatedAt: time.Now().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		return eventOf(t, f.snapshot(relPath(ref.Path)), nil)
	}
	localURL := local.URL + firestoreevent.DeliveryPath(f.env.ProjectID, TriggerMessageWritten)
	ev := send("m1")
	postOK(localURL, ev)
	postOK(localURL, ev)
	if err := f.p.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	ev = send("m2")
	postOK(cloud.URL+"/events/"+TriggerMessageWritten, ev)
	postOK(cloud.URL+"/events", ev)
	if e, _ := f.entry("bob", "r"); e.UnreadCount != 2 || f.roomDoc("r").MessageCount != 2 {
		t.Errorf("after redelivery: bob's unread %d, messageCount %d, want 2, 2", e.UnreadCount, f.roomDoc("r").MessageCount)
	}
}
