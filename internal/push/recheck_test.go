package push

import (
	"slices"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

// TestDigestRecheckedAtFlush: what the recipient decided after a digest's items were
// queued holds when the digest goes out (a block once its index lists it). bob gets alice's first message at once; the
// next ones wait for the window; then bob changes something and the flusher sends only
// what still qualifies, or nothing. The queue entry is left with nothing pending either
// way (the claim covered every item, sent or dropped).
func TestDigestRecheckedAtFlush(t *testing.T) {
	tests := []struct {
		name     string
		change   func(h *harness)
		wantBody string // "" : no digest at all
		wantMsg  string // the message the digest links to
		reason   string // the suppression counted when nothing is sent
	}{
		{
			name: "blocks every sender",
			change: func(h *harness) {
				h.block("bob", "alice", true, 0)
				h.block("bob", "carol", true, 0)
			},
			reason: ReasonBlocked,
		},
		{
			name:     "blocks one of two senders",
			change:   func(h *harness) { h.block("bob", "carol", true, 0) },
			wantBody: "3 new messages in Team", wantMsg: "m5",
		},
		{
			name:     "blocks the sender of the newest items",
			change:   func(h *harness) { h.block("bob", "alice", true, 0) },
			wantBody: "Carol: three", wantMsg: "m3",
		},
		{
			// carol's block overflows alice's index (cap 1): bob's is read from his
			// block document.
			name: "blocks a sender whose index overflowed",
			change: func(h *harness) {
				h.block("bob", "alice", true, 1)
				h.block("carol", "alice", true, 1)
			},
			wantBody: "Carol: three", wantMsg: "m3",
		},
		{
			name: "mutes the room",
			change: func(h *harness) {
				h.membership("bob", "team", model.Membership{Notifications: model.NotifyAll, MutedUntil: h.clock.Now().Add(time.Hour)})
			},
			reason: ReasonMuted,
		},
		{
			name: "lowers the level to mentions",
			change: func(h *harness) {
				h.membership("bob", "team", model.Membership{Notifications: model.NotifyMentions})
			},
			reason: ReasonMentionsOnly,
		},
		{
			name: "leaves the room",
			change: func(h *harness) {
				h.set(model.RoomPath("team"), model.Room{Type: model.RoomGroup, Title: "Team", CreatedBy: "alice", CreatedAt: h.clock.Now(),
					MemberIDs: []string{"alice", "carol"}, MemberCount: 2, LastMessageAt: h.clock.Now()})
			},
			reason: ReasonNotMember,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
			h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
			n := h.notifier(Config{Window: 10 * time.Second})
			h.say(n, "team", "m1", "alice", "one") // pushed at once, opens the window
			for _, m := range []struct{ id, sender, text string }{{"m2", "alice", "two"}, {"m3", "carol", "three"}, {"m4", "alice", "four"}, {"m5", "alice", "five"}} {
				h.clock.Advance(time.Second)
				h.say(n, "team", m.id, m.sender, m.text)
			}
			if got := len(h.fcm.SentTo("tok-bob")); got != 1 {
				t.Fatalf("pushes before the window's end = %d, want 1", got)
			}
			if e := h.entry("bob", "team"); e == nil || e.Count != 4 {
				t.Fatalf("queue entry = %+v, want 4 pending", e)
			}
			tt.change(h)
			h.clock.Advance(10 * time.Second)
			if got := h.flush(n); got != 1 {
				t.Fatalf("Flush() claimed %d, want 1", got)
			}
			sent := h.fcm.SentTo("tok-bob")
			switch {
			case tt.wantBody == "" && len(sent) != 1:
				t.Errorf("pushes = %+v, want none after the first", sent[1:])
			case tt.wantBody != "" && (len(sent) != 2 || sent[1].Body != tt.wantBody || sent[1].Data[DataMessageID] != tt.wantMsg):
				t.Errorf("pushes = %+v, want a second %q linking %s", sent, tt.wantBody, tt.wantMsg)
			}
			if tt.reason != "" {
				if got := counter(n.m.suppressed, tt.reason); got != 1 {
					t.Errorf("suppressed{%s} = %v, want 1", tt.reason, got)
				}
			}
			if e := h.entry("bob", "team"); e != nil && (e.Count != 0 || !e.DueAt.IsZero() || len(e.MessageIDs) != 0 || len(e.SenderIDs) != 0) {
				t.Errorf("entry after the flush = %+v, want nothing pending", e)
			}
		})
	}
}

// TestDigestMentionsOnlyAfterLowering: a digest holding a mention among plain messages,
// flushed after the recipient set the room to "mentions", counts only the mentions.
func TestDigestMentionsOnlyAfterLowering(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	now := h.clock.Now()
	h.message("team", "m1", "alice", "one")
	h.message("team", "m2", "alice", "@bob two", "bob")
	h.message("team", "m3", "alice", "three")
	h.set(model.PushQueuePath("bob", "team"), model.PushQueueEntry{UID: "bob", RoomID: "team",
		MessageIDs: []string{"m1", "m2", "m3"}, SenderIDs: []string{"alice", "alice", "alice"}, MentionIDs: []string{"m2"}, Mentioned: true,
		RecentIDs: []string{"m1", "m2", "m3"}, Count: 3, FirstAt: now, LastAt: now, DueAt: now, UpdatedAt: now})
	h.membership("bob", "team", model.Membership{Notifications: model.NotifyMentions})
	n := h.notifier(Config{Window: 10 * time.Second})
	if got := h.flush(n); got != 1 {
		t.Fatalf("Flush() claimed %d, want 1", got)
	}
	sent := h.fcm.SentTo("tok-bob")
	if len(sent) != 1 || sent[0].Body != "Alice mentioned you: @bob two" || sent[0].Data[DataMessageID] != "m2" {
		t.Errorf("pushes = %+v, want the mention alone", sent)
	}
}

// TestQueuedSendersStayAligned: SenderIDs follows MessageIDs through the cap and the
// completion of a claim, including entries written before senders were recorded.
func TestQueuedSendersStayAligned(t *testing.T) {
	ids := []string{"a", "b", "c", "d"}
	senders := []string{"s3", "s4"} // an older entry: the first two items have no sender
	for i, want := range []string{"", "", "s3", "s4"} {
		if got := senderAt(ids, senders, i); got != want {
			t.Errorf("senderAt(%d) = %q, want %q", i, got, want)
		}
	}
	if got := trimSenders(senders, 1); !slices.Equal(got, []string{"s4"}) {
		t.Errorf("trimSenders(_, 1) = %q, want [s4]", got)
	}
	if got := trimSenders(senders, 3); !slices.Equal(got, []string{"s3", "s4"}) {
		t.Errorf("trimSenders(_, 3) = %q, want [s3 s4]", got)
	}
	if got := trimSenders(senders, 0); len(got) != 0 {
		t.Errorf("trimSenders(_, 0) = %q, want none", got)
	}
}
