package push

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestBurstOneImmediatePush replays, with the fake clock and the handlers called directly,
// the interleavings of `hearth dev` under load that gave a burst of 20 messages two
// immediate pushes ("Alice: message 0", "Alice: message 1", "18 new messages"): the
// burst's writes queue up on the recipient's entry, so either message 0's push is
// held up past the window (the window used to start at the claim, and message 1, queued
// meanwhile, was due at once when the send completed), or message 1's event comes after
// the window of message 0's push ended (it used to be pushed alone). Meanwhile the
// membership trigger sees the membership created on join (lastReadAt = joinedAt, before
// the burst), which must not close the window. Either way bob gets "Alice: message 0"
// and one digest of the other 19.
func TestBurstOneImmediatePush(t *testing.T) {
	const window = 8 * time.Second
	tests := []struct {
		name string
		// sendDelay: time between the claim of message 0 and its send (if > 0, message 1
		// is queued in between); eventDelay: time between message 0's push and the
		// events of the other messages.
		sendDelay, eventDelay time.Duration
	}{
		{"send held up past the window", window + time.Second, 0},
		{"events later than the window", 0, window + time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			joinedAt := h.clock.Now()
			h.room("burst", model.RoomGroup, "Burst", "alice", "bob")
			h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
			h.membership("bob", "burst", model.Membership{Notifications: model.NotifyAll, LastReadAt: joinedAt})
			joined := event(h.env.ProjectID, firestoreevent.TypeWritten, model.MembershipPath("bob", "burst"),
				nil, map[string]any{"notifications": "all", "lastReadAt": joinedAt})
			n := h.notifier(Config{Window: window})
			membershipCreated := func() {
				t.Helper()
				if err := n.HandleMembershipWritten(h.ctx, joined); err != nil {
					t.Fatalf("HandleMembershipWritten(created) = %v", err)
				}
			}
			h.clock.Advance(time.Second)

			// The burst is written within 20 ms.
			msgs := make([]model.Message, 20)
			for i := range msgs {
				msgs[i] = h.message("burst", fmt.Sprintf("burst-%02d", i), "alice", fmt.Sprintf("message %d", i))
				h.clock.Advance(time.Millisecond)
			}
			c0, err := n.enqueue(h.ctx, "bob", "burst", incoming{id: "burst-00", createdAt: msgs[0].CreatedAt})
			if err != nil || c0 == nil {
				t.Fatalf("enqueue(burst-00) = %v, %v; want a claim", c0, err)
			}
			first := 2 // the messages handled after message 0's push: 19 down to first
			if tt.sendDelay > 0 {
				h.clock.Advance(tt.sendDelay / 2)
				if c, err := n.enqueue(h.ctx, "bob", "burst", incoming{id: "burst-01", createdAt: msgs[1].CreatedAt}); err != nil || c != nil {
					t.Fatalf("enqueue(burst-01) during message 0's send = %v, %v; want no claim", c, err)
				}
				membershipCreated()
				h.clock.Advance(tt.sendDelay / 2)
			} else {
				first = 1
			}
			if err := n.deliver(h.ctx, []*claim{c0}, KindImmediate, n.newLoader()); err != nil {
				t.Fatalf("deliver(burst-00) = %v", err)
			}
			h.clock.Advance(tt.eventDelay)
			membershipCreated()
			for i := 19; i >= first; i-- { // out of order
				if err := n.NotifyMessage(h.ctx, "burst", fmt.Sprintf("burst-%02d", i), msgs[i]); err != nil {
					t.Fatalf("NotifyMessage(burst-%02d) = %v", i, err)
				}
			}
			if got := bodies(h); len(got) != 1 || got[0] != "Alice: message 0" {
				t.Fatalf("pushes before the window ends = %q, want [\"Alice: message 0\"]", got)
			}
			for range 3 {
				h.clock.Advance(window)
				h.flush(n)
			}
			if got, want := bodies(h), []string{"Alice: message 0", "19 new messages in Burst"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("pushes for the burst = %q, want %q", got, want)
			}
		})
	}
}

// TestBurstConcurrentEvents: the events of a 20-message burst handled all at once (as 20
// function instances would; the local door runs 8) update the same two queue entries. Every event
// is handled without an error (no lock timeout, nothing left to redelivery or to a
// lease's expiry), each member gets one immediate push, and the flush after the window
// one digest of the other 19. This is `hearth dev`'s burst without the emulator's
// triggers; it failed with read-write transactions on the entries ("Transaction lock
// timeout"), which left bob's digest waiting a minute for the lease of his first push.
func TestBurstConcurrentEvents(t *testing.T) {
	const window = 8 * time.Second
	h := newHarness(t)
	h.room("burst", model.RoomGroup, "Burst", "alice", "bob", "carol")
	for _, uid := range []string{"bob", "carol"} {
		h.device(uid, uid+"1", "tok-"+uid, model.PlatformAndroid, h.clock.Now())
	}
	n := h.notifier(Config{Window: window})
	msgs := make([]model.Message, 20)
	for i := range msgs {
		msgs[i] = h.message("burst", fmt.Sprintf("burst-%02d", i), "alice", fmt.Sprintf("message %d", i))
	}
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, len(msgs))
	for i := range msgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = n.NotifyMessage(h.ctx, "burst", fmt.Sprintf("burst-%02d", i), msgs[i])
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("NotifyMessage(burst-%02d) = %v", i, err)
		}
	}
	perToken := func() map[string][]string {
		got := map[string][]string{}
		for _, s := range h.fcm.Sent() {
			got[s.Token] = append(got[s.Token], s.Body)
		}
		return got
	}
	single := regexp.MustCompile(`^Alice: message \d+$`)
	for tok, bodies := range perToken() {
		if len(bodies) != 1 || !single.MatchString(bodies[0]) {
			t.Errorf("pushes to %s before the window ends = %q, want one \"Alice: message N\"", tok, bodies)
		}
	}
	h.clock.Advance(window)
	h.flush(n)
	got := perToken()
	for _, tok := range []string{"tok-bob", "tok-carol"} {
		if b := got[tok]; len(b) != 2 || !single.MatchString(b[0]) || b[1] != "19 new messages in Burst" {
			t.Errorf("pushes to %s = %q, want one message and then \"19 new messages in Burst\"", tok, b)
		}
	}
}

// bodies returns the bodies of the fake FCM's sends, in order.
func bodies(h *harness) []string {
	var out []string
	for _, s := range h.fcm.Sent() {
		out = append(out, s.Body)
	}
	return out
}
