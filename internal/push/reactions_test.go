package push

import (
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// bodies returns the bodies of the fake FCM's sends to token, in order.
func (h *harness) bodies(token string) []string {
	var out []string
	for _, s := range h.fcm.SentTo(token) {
		out = append(out, s.Title+" | "+s.Body)
	}
	return out
}

func (h *harness) reaction(roomID, messageID, uid string, emoji ...string) {
	h.set(model.ReactionPath(roomID, messageID, uid), model.Reaction{Emoji: emoji, UpdatedAt: h.clock.Now().UTC()})
}

// TestNotifyReaction: the author hears of a reaction once, digest-aware, with the mute
// and the room's level respected, never of their own, never for a deleted message or a
// forged reaction with nothing allowed in it.
func TestNotifyReaction(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
	dm := model.DirectRoomID("alice", "bob")
	h.room(dm, model.RoomDirect, "", "alice", "bob")
	h.device("alice", "a1", "tok-alice", model.PlatformAndroid, h.clock.Now())
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{Window: 10 * time.Second})
	notify := func(roomID, messageID, reactor string) {
		t.Helper()
		if err := n.NotifyReaction(h.ctx, roomID, messageID, reactor); err != nil {
			t.Fatalf("NotifyReaction(%s by %s) = %v", messageID, reactor, err)
		}
	}
	want := func(step, token string, bodies ...string) {
		t.Helper()
		got := h.bodies(token)
		if len(got) != len(bodies) {
			t.Fatalf("%s: pushes to %s = %q, want %q", step, token, got, bodies)
		}
		for i := range got {
			if got[i] != bodies[i] {
				t.Fatalf("%s: pushes to %s = %q, want %q", step, token, got, bodies)
			}
		}
	}

	h.message("team", "m1", "alice", "lunch at noon?")
	h.reaction("team", "m1", "bob", "👍")
	notify("team", "m1", "bob")
	want("bob reacted", "tok-alice", "Team | Bob reacted 👍 to: lunch at noon?")
	notify("team", "m1", "bob") // a duplicate event
	h.clock.Advance(time.Minute)
	h.flush(n)
	want("a duplicate", "tok-alice", "Team | Bob reacted 👍 to: lunch at noon?")

	// Her own reaction notifies nobody; nor does bob's forged one with nothing allowed.
	h.reaction("team", "m1", "alice", "🎉")
	notify("team", "m1", "alice")
	h.reaction("team", "m1", "bob", "🍕", "👍🏽")
	notify("team", "m1", "bob")
	h.clock.Advance(time.Minute)
	h.flush(n)
	want("own and forged reactions", "tok-alice", "Team | Bob reacted 👍 to: lunch at noon?")
	if got := h.bodies("tok-bob"); len(got) != 0 {
		t.Errorf("the reactor was notified: %q", got)
	}

	// "mentions" and a mute silence reactions; "all" lets the next one through.
	h.membership("alice", "team", model.Membership{Notifications: model.NotifyMentions})
	h.reaction("team", "m1", "carol", "😂")
	notify("team", "m1", "carol")
	h.membership("alice", "team", model.Membership{Notifications: model.NotifyAll, MutedUntil: h.clock.Now().Add(time.Hour)})
	h.reaction("team", "m1", "carol", "😂", "🔥")
	notify("team", "m1", "carol")
	h.clock.Advance(time.Minute)
	h.flush(n)
	want("mentions only, then muted", "tok-alice", "Team | Bob reacted 👍 to: lunch at noon?")
	h.membership("alice", "team", model.Membership{Notifications: model.NotifyAll})
	h.reaction("team", "m1", "carol", "😮")
	notify("team", "m1", "carol")
	want("unmuted", "tok-alice", "Team | Bob reacted 👍 to: lunch at noon?", "Team | Carol reacted 😮 to: lunch at noon?")

	// A deleted message's reactions notify nobody.
	h.set(model.MessagePath("team", "m2"), model.Message{SenderID: "alice", Type: model.MessageText, CreatedAt: h.clock.Now(), DeletedAt: h.clock.Now(), DeletedBy: "alice"})
	h.reaction("team", "m2", "bob", "👍")
	h.clock.Advance(time.Minute)
	notify("team", "m2", "bob")
	h.flush(n)
	want("a deleted message", "tok-alice", "Team | Bob reacted 👍 to: lunch at noon?", "Team | Carol reacted 😮 to: lunch at noon?")

	// In a direct room the title names the reactor.
	h.message(dm, "d1", "alice", "see you")
	h.reaction(dm, "d1", "bob", "❤️")
	notify(dm, "d1", "bob")
	got := h.bodies("tok-alice")
	if last := got[len(got)-1]; last != "Bob | Reacted ❤️ to: see you" {
		t.Errorf("direct reaction push = %q, want %q", last, "Bob | Reacted ❤️ to: see you")
	}
}

// TestReactionOfBlockedReactor: a reaction has no message stage that reads blocks; the
// send-time check of its reactor's blockers index keeps it from an author who blocks the
// reactor, while another reactor's reaction still reaches her.
func TestReactionOfBlockedReactor(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
	h.device("alice", "a1", "tok-alice", model.PlatformAndroid, h.clock.Now())
	h.block("alice", "bob", true, 0)
	n := h.notifier(Config{Window: -1})
	h.message("team", "m1", "alice", "lunch at noon?")
	for _, reactor := range []string{"bob", "carol"} {
		h.reaction("team", "m1", reactor, "👍")
		if err := n.NotifyReaction(h.ctx, "team", "m1", reactor); err != nil {
			t.Fatalf("NotifyReaction(by %s) = %v", reactor, err)
		}
	}
	if got := h.bodies("tok-alice"); len(got) != 1 || got[0] != "Team | Carol reacted 👍 to: lunch at noon?" {
		t.Errorf("pushes to alice = %q, want carol's reaction only (alice blocks bob)", got)
	}
	if got := counter(n.m.suppressed, ReasonBlocked); got != 1 {
		t.Errorf("suppressed{reason=blocked} = %v, want 1", got)
	}
}

// TestNotifyThreadReply: a reply is personal to the thread's participants (the root's
// sender and everyone who replied): it reaches them at once even when their room is set
// to "mentions", says "replied"; a member who muted the thread gets nothing; others get
// the room's usual push.
func TestNotifyThreadReply(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol", "dave", "erin")
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		h.device(u, u+"1", "tok-"+u, model.PlatformAndroid, h.clock.Now())
	}
	h.membership("carol", "team", model.Membership{Notifications: model.NotifyMentions})
	h.membership("erin", "team", model.Membership{Notifications: model.NotifyMentions})
	h.set(model.ThreadMutePath("dave", "team", "root"), model.ThreadMute{RoomID: "team", MessageID: "root", CreatedAt: h.clock.Now()})
	n := h.notifier(Config{Window: 10 * time.Second})

	h.set(model.MessagePath("team", "root"), model.Message{SenderID: "carol", Type: model.MessageText, Text: "ideas?", CreatedAt: h.clock.Now()})
	h.set(model.ThreadParticipantsPath("team", "root")+"/erin", map[string]any{"uid": "erin", "at": h.clock.Now()})
	h.clock.Advance(time.Second)
	reply := h.sayReply(n, "team", "r1", "bob", "one idea", "root")
	h.notify(n, "team", "r1", reply) // a duplicate event changes nothing
	for token, want := range map[string]string{
		"tok-carol": "Team | Bob replied: one idea", // the root's sender, "mentions" level
		"tok-erin":  "Team | Bob replied: one idea", // replied before, "mentions" level
		"tok-alice": "Team | Bob: one idea",         // not in the thread: the room's push
		"tok-dave":  "",                             // muted the thread
		"tok-bob":   "",                             // the sender
	} {
		got := h.bodies(token)
		switch {
		case want == "" && len(got) != 0:
			t.Errorf("pushes to %s = %q, want none", token, got)
		case want != "" && (len(got) != 1 || got[0] != want):
			t.Errorf("pushes to %s = %q, want [%q]", token, got, want)
		}
	}
}
