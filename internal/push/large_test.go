package push

import (
	"slices"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestLargeRoomDigestOnly: in a room in large-room mode (room.large) a plain message
// never pushes at once, not even the first of a quiet spell: it waits for the digest.
// A mention of the recipient and a reply to the recipient's own message push at once;
// a reply in a thread the recipient only took part in does not; mute still silences a
// mention. Back in normal mode the first message pushes at once again.
func TestLargeRoomDigestOnly(t *testing.T) {
	h := newHarness(t)
	h.room("big", model.RoomGroup, "Big", "alice", "bob", "carol", "dave")
	room := model.Room{Type: model.RoomGroup, Title: "Big", CreatedBy: "alice", CreatedAt: h.clock.Now(),
		MemberIDs: []string{"alice", "bob", "carol", "dave"}, MemberCount: 4, LastMessageAt: h.clock.Now(), Large: true}
	h.set(model.RoomPath("big"), room)
	for _, uid := range []string{"bob", "carol", "dave"} {
		h.device(uid, uid[:1]+"1", "tok-"+uid, model.PlatformAndroid, h.clock.Now())
	}
	h.membership("dave", "big", model.Membership{Notifications: model.NotifyAll, MutedUntil: h.clock.Now().Add(time.Hour)})
	n := h.notifier(Config{Window: 10 * time.Second})

	// bob's message before anything else is pending (his own: no push for him).
	h.say(n, "big", "b1", "bob", "my question")
	if got := tokens(h.fcm.Sent()); len(got) != 0 {
		t.Fatalf("first message of a quiet large room: pushes = %q, want none (digest only)", got)
	}
	// carol answers in b1's thread: a reply to bob's own message pushes bob at once.
	h.clock.Advance(time.Second)
	h.sayReply(n, "big", "c1", "carol", "an answer", "b1")
	if got := tokens(h.fcm.Sent()); !slices.Equal(got, []string{"tok-bob"}) {
		t.Fatalf("reply to bob's message: pushes = %q, want [tok-bob] only", got)
	}
	// alice replies in the same thread: bob's own message again (at once); carol only
	// took part in the thread: digest.
	h.clock.Advance(time.Second)
	h.sayReply(n, "big", "a2", "alice", "agreed", "b1")
	if got := tokens(h.fcm.Sent()); !slices.Equal(got, []string{"tok-bob", "tok-bob"}) {
		t.Fatalf("second reply to bob's message: pushes = %q, want a second one to bob only", got)
	}
	// A mention of carol pushes her at once; dave is mentioned too but muted.
	h.clock.Advance(time.Second)
	h.say(n, "big", "a3", "alice", "@carol @dave please look", "carol", "dave")
	sent := h.fcm.Sent()
	if got := tokens(sent); !slices.Equal(got, []string{"tok-bob", "tok-bob", "tok-carol"}) {
		t.Fatalf("mention: pushes = %q, want one more, to carol (dave muted)", got)
	}
	if e := h.entry("bob", "big"); e == nil || !slices.Equal(e.MessageIDs, []string{"a3"}) {
		t.Fatalf("bob's queue entry = %+v, want a3 pending for the digest", e)
	}
	if e := h.entry("dave", "big"); e != nil && e.Count != 0 {
		t.Fatalf("muted dave's queue entry = %+v, want nothing pending", e)
	}

	// The digest goes out when the window ends.
	h.clock.Advance(11 * time.Second)
	h.flush(n)
	sent = h.fcm.Sent()
	if len(sent) != 4 || sent[3].Token != "tok-bob" || sent[3].Data[DataMessageID] != "a3" {
		t.Fatalf("after the window: pushes = %+v, want bob's digest linking a3", sent)
	}

	// Back in normal mode a plain message after a quiet window pushes at once.
	room.Large = false
	h.set(model.RoomPath("big"), room)
	h.clock.Advance(30 * time.Second)
	h.say(n, "big", "a4", "alice", "small again")
	got := tokens(h.fcm.Sent()[4:])
	slices.Sort(got)
	if !slices.Equal(got, []string{"tok-bob", "tok-carol"}) {
		t.Fatalf("normal mode: pushes = %q, want bob and carol at once", got)
	}
}

// TestLargeRoomReactionWaits: a reaction follows the rules of a group message, so in a
// large room even the first one of a quiet spell waits for the digest.
func TestLargeRoomReactionWaits(t *testing.T) {
	h := newHarness(t)
	h.room("big", model.RoomGroup, "Big", "alice", "bob") // the members' profiles
	h.set(model.RoomPath("big"), model.Room{Type: model.RoomGroup, Title: "Big", CreatedBy: "alice", CreatedAt: h.clock.Now(),
		MemberIDs: []string{"alice", "bob"}, MemberCount: 2, LastMessageAt: h.clock.Now(), Large: true})
	h.device("alice", "a1", "tok-alice", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{Window: 10 * time.Second})
	h.message("big", "m1", "alice", "lunch at noon?")
	h.reaction("big", "m1", "bob", "👍")
	if err := n.NotifyReaction(h.ctx, "big", "m1", "bob"); err != nil {
		t.Fatal(err)
	}
	if got := h.bodies("tok-alice"); len(got) != 0 {
		t.Fatalf("first reaction in a quiet large room: pushes = %q, want none yet (digest only)", got)
	}
	h.clock.Advance(10 * time.Second)
	if got := h.flush(n); got != 1 {
		t.Fatalf("Flush() claimed %d, want 1", got)
	}
	if got := h.bodies("tok-alice"); len(got) != 1 || got[0] != "Big | Bob reacted 👍 to: lunch at noon?" {
		t.Errorf("after the window: pushes = %q, want the reaction", got)
	}
}
