package push

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// countingSender counts the messages one flusher sent.
type countingSender struct {
	next Sender
	n    atomic.Int64
}

func (c *countingSender) SendEach(ctx context.Context, msgs []*messaging.Message) (*messaging.BatchResponse, error) {
	c.n.Add(int64(len(msgs)))
	return c.next.SendEach(ctx, msgs)
}

// TestTwoFlushers runs two flushers (Run, real clock, small pages so they interleave) on
// a queue of 200 due digests: each is sent exactly once.
func TestTwoFlushers(t *testing.T) {
	const recipients = 200
	h := newHarness(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	members := []string{"alice"}
	for i := range recipients {
		members = append(members, fmt.Sprintf("u%03d", i))
	}
	bw := h.db.BulkWriter(h.ctx)
	set := func(path string, v any) {
		if _, err := bw.Set(h.db.Doc(path), v); err != nil {
			t.Fatal(err)
		}
	}
	set(model.RoomPath("big"), model.Room{Type: model.RoomGroup, Title: "Big", CreatedBy: "alice", CreatedAt: now,
		MemberIDs: members, MemberCount: len(members), LastMessageAt: now})
	set(model.UserPath("alice"), model.User{DisplayName: "Alice", CreatedAt: now})
	for _, id := range []string{"m1", "m2"} {
		set(model.MessagePath("big", id), model.Message{SenderID: "alice", Type: model.MessageText, Text: id, CreatedAt: now.Add(-time.Minute)})
	}
	for _, uid := range members[1:] {
		set(model.DevicePath(uid, "d1"), model.Device{Token: "tok-" + uid, Platform: model.PlatformAndroid, UpdatedAt: now})
		set(model.PushQueuePath(uid, "big"), model.PushQueueEntry{UID: uid, RoomID: "big", MessageIDs: []string{"m1", "m2"}, RecentIDs: []string{"m1", "m2"},
			Count: 2, FirstAt: now.Add(-time.Minute), LastAt: now.Add(-time.Minute), DueAt: now.Add(-time.Second), UpdatedAt: now})
	}
	bw.End()

	ctx, cancel := context.WithCancel(h.ctx)
	var wg sync.WaitGroup
	senders := []*countingSender{{next: h.client}, {next: h.client}}
	for i, s := range senders {
		n, err := New(Config{PollInterval: 5 * time.Millisecond, FlushLimit: 20, InstanceID: fmt.Sprintf("flusher-%d", i)},
			Deps{Firestore: h.db, Sender: s, Registerer: h.reg})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := n.Run(ctx); err != nil {
				t.Errorf("Run() = %v", err)
			}
		})
	}
	waitCtx, stop := context.WithTimeout(h.ctx, 60*time.Second)
	defer stop()
	if _, err := h.fcm.WaitSent(waitCtx, recipients); err != nil {
		t.Fatal(err)
	}
	probe := h.notifier(Config{})
	emutest.Eventually(t, 30*time.Second, func() error {
		if n, err := probe.queueDepth(h.ctx); err != nil || n != 0 {
			return fmt.Errorf("queue depth %d (%v), want 0", n, err)
		}
		return nil
	})
	cancel()
	wg.Wait()

	sent := h.fcm.Sent()
	perToken := map[string]int{}
	for _, s := range sent {
		perToken[s.Token]++
		if s.Body != "2 new messages in Big" {
			t.Errorf("digest to %s = %q, want \"2 new messages in Big\"", s.Token, s.Body)
		}
	}
	if len(sent) != recipients || len(perToken) != recipients {
		t.Errorf("sent %d pushes to %d tokens, want %d each exactly once", len(sent), len(perToken), recipients)
	}
	for tok, n := range perToken {
		if n != 1 {
			t.Errorf("token %s got %d digests, want 1", tok, n)
		}
	}
	t.Logf("flusher-0 sent %d, flusher-1 sent %d", senders[0].n.Load(), senders[1].n.Load())
}

// TestFlusherKilledAfterClaim: an instance claims due work and dies before sending. The
// other instance leaves the entry alone while the lease lasts and sends it once the lease
// has expired; the dead instance's late completion changes nothing.
func TestFlusherKilledAfterClaim(t *testing.T) {
	const lease = DefaultLease
	t.Run("digest", func(t *testing.T) {
		h := newHarness(t)
		h.room("team", model.RoomGroup, "Team", "alice", "bob")
		h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
		killed := h.notifier(Config{Window: 10 * time.Second, Lease: lease, InstanceID: "killed"})
		other := h.notifier(Config{Window: 10 * time.Second, Lease: lease, InstanceID: "other"})
		h.say(killed, "team", "m1", "alice", "one")
		h.clock.Advance(time.Second)
		h.say(killed, "team", "m2", "alice", "two")
		h.clock.Advance(10 * time.Second)

		claims, err := killed.claimDue(h.ctx)
		if err != nil || len(claims) != 1 {
			t.Fatalf("claimDue() = %d claims, %v; want 1", len(claims), err)
		}
		// killed dies here.
		if got := h.flush(other); got != 0 {
			t.Errorf("Flush() during the lease claimed %d, want 0", got)
		}
		h.clock.Advance(lease - time.Second)
		if got := h.flush(other); got != 0 {
			t.Errorf("Flush() just before the lease ends claimed %d, want 0", got)
		}
		h.clock.Advance(time.Second)
		if got := h.flush(other); got != 1 {
			t.Fatalf("Flush() after the lease claimed %d, want 1", got)
		}
		sent := h.fcm.Sent()
		if len(sent) != 2 || sent[1].Body != "Alice: two" {
			t.Fatalf("pushes = %v, want the first message and then \"Alice: two\"", sent)
		}
		if _, err := killed.complete(h.ctx, claims[0], outcome{done: true, sent: true}, true); err != nil {
			t.Fatalf("late complete() = %v", err)
		}
		h.clock.Advance(time.Minute)
		if got := h.flush(other); got != 0 {
			t.Errorf("Flush() after everything claimed %d, want 0", got)
		}
		if got := len(h.fcm.Sent()); got != 2 {
			t.Errorf("pushes in the end = %d, want 2", got)
		}
	})
	t.Run("immediate", func(t *testing.T) {
		h := newHarness(t)
		h.room("team", model.RoomGroup, "Team", "alice", "bob")
		h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
		killed := h.notifier(Config{Lease: lease, InstanceID: "killed"})
		other := h.notifier(Config{Lease: lease, InstanceID: "other"})
		m := h.message("team", "m1", "alice", "hi")
		// The message trigger queues and claims, then the instance dies before sending.
		c, err := killed.enqueue(h.ctx, "bob", "team", incoming{id: "m1", createdAt: m.CreatedAt})
		if err != nil || c == nil {
			t.Fatalf("enqueue() = %v, %v; want a claim", c, err)
		}
		if got := h.flush(other); got != 0 {
			t.Errorf("Flush() during the lease claimed %d, want 0", got)
		}
		// A redelivery of the event finds the message handled.
		if err := other.NotifyMessage(h.ctx, "team", "m1", m); err != nil {
			t.Fatal(err)
		}
		if got := len(h.fcm.Sent()); got != 0 {
			t.Errorf("pushes during the lease = %d, want 0", got)
		}
		h.clock.Advance(lease)
		if got := h.flush(other); got != 1 {
			t.Fatalf("Flush() after the lease claimed %d, want 1", got)
		}
		if sent := h.fcm.Sent(); len(sent) != 1 || sent[0].Body != "Alice: hi" {
			t.Errorf("pushes = %v, want \"Alice: hi\"", sent)
		}
	})
}

// TestMessagesDuringSend: messages that arrive while a push is in flight stay pending:
// a plain one waits for the window, a direct message goes right after.
func TestMessagesDuringSend(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	n := h.notifier(Config{Window: 10 * time.Second})
	m1 := h.message("team", "m1", "alice", "one")
	c, err := n.enqueue(h.ctx, "bob", "team", incoming{id: "m1", createdAt: m1.CreatedAt})
	if err != nil || c == nil {
		t.Fatalf("enqueue(m1) = %v, %v", c, err)
	}
	// m2 arrives while m1's push is in flight.
	h.clock.Advance(time.Second)
	m2 := h.message("team", "m2", "alice", "two")
	if c2, err := n.enqueue(h.ctx, "bob", "team", incoming{id: "m2", createdAt: m2.CreatedAt}); err != nil || c2 != nil {
		t.Fatalf("enqueue(m2) during the lease = %v, %v; want no claim", c2, err)
	}
	if err := n.deliver(h.ctx, []*claim{c}, KindImmediate, n.newLoader()); err != nil {
		t.Fatal(err)
	}
	// The window runs from the send (m1 + 1s), not from the claim.
	e := h.entry("bob", "team")
	if e.Count != 1 || !slices.Equal(e.MessageIDs, []string{"m2"}) || !e.DueAt.Equal(m1.CreatedAt.Add(11*time.Second)) {
		t.Errorf("entry after m1's push = %+v, want m2 pending until the window ends", e)
	}
	h.clock.Advance(10 * time.Second)
	h.flush(n)
	sent := h.fcm.Sent()
	if len(sent) != 2 || sent[0].Body != "Alice: one" || sent[1].Body != "Alice: two" {
		t.Errorf("pushes = %v, want \"Alice: one\" then \"Alice: two\"", sent)
	}
}

// TestEndToEnd runs the triggers as the Firestore emulator delivers them: a burst of
// messages written by the admin client gives bob one push and one digest, and reading
// the room drops a pending digest through the membership trigger. The window runs on
// the fake clock, so slow event delivery (the emulator has one delivery thread for
// every test project) cannot split the burst.
func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.clock.Set(time.Now().UTC().Truncate(time.Microsecond))
	n := h.notifier(Config{Window: 10 * time.Second})
	h.env.Route(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := firestoreevent.FromHTTP(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// The push parts of functions' message and membership triggers, as the pipeline
		// dispatches them (the message part for creations only).
		id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		handle := map[string]func(context.Context, *firestoreevent.Event) error{
			"onMessageCreated":    n.HandleMessageCreated,
			"onMembershipWritten": n.HandleMembershipWritten,
		}[id]
		if handle == nil {
			http.Error(w, "no trigger "+id, http.StatusNotFound)
			return
		}
		if err := handle(r.Context(), ev); err != nil {
			t.Errorf("%s: %v", id, err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}))
	h.env.RegisterTrigger(firestoreevent.Trigger{ID: "onMessageCreated", EventType: firestoreevent.TypeCreated, Document: model.MessagePattern})
	h.env.RegisterTrigger(firestoreevent.Trigger{ID: "onMembershipWritten", EventType: firestoreevent.TypeWritten, Document: model.MembershipPattern})
	h.room("team", model.RoomGroup, "Team", "alice", "bob")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	write := func(id, text string) time.Time {
		at := h.clock.Now() // createdAt on the notifier's clock, as server time is in production
		h.set(model.MessagePath("team", id), model.Message{SenderID: "alice", Type: model.MessageText, Text: text, CreatedAt: at})
		return at
	}
	pending := func(want ...string) {
		t.Helper()
		emutest.Eventually(t, 20*time.Second, func() error {
			if e := h.entry("bob", "team"); e == nil || !slices.Equal(e.MessageIDs, want) {
				return fmt.Errorf("entry %+v, want %q pending", e, want)
			}
			return nil
		})
	}
	wctx, stop := context.WithTimeout(h.ctx, 30*time.Second)
	defer stop()

	for i := range 5 {
		write(fmt.Sprintf("m%d", i), fmt.Sprintf("burst %d", i))
	}
	pending("m1", "m2", "m3", "m4")
	h.clock.Advance(10 * time.Second)
	if got := h.flush(n); got != 1 {
		t.Fatalf("Flush() at the window's end claimed %d, want 1", got)
	}
	sent, err := h.fcm.WaitSent(wctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Body != "Alice: burst 0" || sent[1].Body != "4 new messages in Team" {
		t.Errorf("burst of 5: pushes %q, %q; want \"Alice: burst 0\" and \"4 new messages in Team\"", sent[0].Body, sent[1].Body)
	}

	// After a quiet window: one immediate push, one queued message, then bob reads.
	h.clock.Advance(11 * time.Second)
	write("n1", "later")
	if _, err := h.fcm.WaitSent(wctx, 3); err != nil {
		t.Fatal(err)
	}
	last := write("n2", "unseen")
	pending("n2")
	h.membership("bob", "team", model.Membership{Notifications: model.NotifyAll, LastReadAt: last, LastReadMessageID: "n2"})
	pending()
	h.clock.Advance(10 * time.Second)
	if got := h.flush(n); got != 0 {
		t.Errorf("Flush() after the read claimed %d, want 0", got)
	}
	if sent := h.fcm.Sent(); len(sent) != 3 || sent[2].Body != "Alice: later" {
		t.Errorf("pushes = %d (%v), want 3, the read digest not sent", len(sent), tokens(sent))
	}
}
