package functions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// parts records the calls of the push and media parts (Notifier, MediaChecks) by
// method and document, and fails the first failPush calls of HandleMessageCreated as
// an FCM outage would.
type parts struct {
	mu       sync.Mutex
	calls    map[string]int // "method document" -> calls
	failPush int
}

func (r *parts) record(method string, ev *firestoreevent.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[method+" "+ev.Document]++
}

func (r *parts) count(method, doc string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[method+" "+doc]
}

func (r *parts) HandleMessageCreated(_ context.Context, ev *firestoreevent.Event) error {
	r.record("push.message", ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failPush > 0 {
		r.failPush--
		return errors.New("fcm: 503 unavailable")
	}
	return nil
}

func (r *parts) HandleMembershipWritten(_ context.Context, ev *firestoreevent.Event) error {
	r.record("push.membership", ev)
	return nil
}

func (r *parts) HandleMessageEvent(_ context.Context, ev *firestoreevent.Event) error {
	r.record("media.created", ev)
	return nil
}

func (r *parts) HandleMessageWritten(_ context.Context, ev *firestoreevent.Event) error {
	r.record("media.written", ev)
	return nil
}

// TestOneTriggerPerDocumentPattern: the pipeline has exactly one trigger per document
// pattern it watches; push and media have none of their own.
func TestOneTriggerPerDocumentPattern(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{noEvents: true, notifier: &parts{}, media: &parts{}})
	seen := map[string]string{}
	for _, tr := range f.p.Triggers() {
		if other, dup := seen[tr.Document]; dup {
			t.Errorf("triggers %s and %s both watch %s", other, tr.Name, tr.Document)
		}
		seen[tr.Document] = tr.Name
	}
	for _, pattern := range []string{model.MessagePattern, model.MemberPattern, model.MembershipPattern,
		model.PresencePattern, model.UserPattern, model.RoomPattern} {
		if seen[pattern] == "" {
			t.Errorf("no trigger watches %s", pattern)
		}
	}
}

// TestMessageDispatch: a message write is delivered once (onMessageWritten) and reaches
// the inbox, push and media; when push fails, the redelivery runs every part again and
// the inbox, being idempotent, does not count the message twice. A membership write
// reaches the roster and push through one delivery too.
func TestMessageDispatch(t *testing.T) {
	t.Parallel()
	rec := &parts{}
	f := newFixture(t, fixtureOpts{noEvents: true, notifier: rec, media: rec})
	var mu sync.Mutex
	deliveries := map[string]int{} // trigger name -> events delivered
	local := f.p.LocalHandler()
	if err := f.p.Register(f.ctx, f.env.FirestoreHost, f.env.ProjectID); err != nil {
		t.Fatal(err)
	}
	f.env.Route(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		deliveries[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]++
		mu.Unlock()
		local.ServeHTTP(w, r)
	}))
	delivered := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		return deliveries[name]
	}
	f.room("r", model.RoomGroup, "R", "alice", "bob")
	f.joined("bob", "r")
	alice, bob := f.env.UserClient("alice", nil), f.env.UserClient("bob", nil)

	m1 := f.send(alice, "alice", "r", "hello")
	doc1 := model.MessagePath("r", m1)
	f.eventually("first message", func() string {
		e, _ := f.entry("bob", "r")
		if e.UnreadCount != 1 || rec.count("push.message", doc1) != 1 || rec.count("media.created", doc1) != 1 {
			return fmt.Sprintf("bob's unread %d, push calls %d, media calls %d; want 1, 1, 1",
				e.UnreadCount, rec.count("push.message", doc1), rec.count("media.created", doc1))
		}
		return ""
	})
	if got := delivered(TriggerMessageWritten); got != 1 {
		t.Errorf("deliveries of %s for one message = %d, want 1", TriggerMessageWritten, got)
	}

	rec.mu.Lock()
	rec.failPush = 1
	rec.mu.Unlock()
	m2 := f.send(alice, "alice", "r", "again")
	doc2 := model.MessagePath("r", m2)
	f.eventually("message whose push failed once", func() string {
		if n := rec.count("push.message", doc2); n != 2 {
			return fmt.Sprintf("push calls %d, want 2 (the failure and the retry)", n)
		}
		if n := rec.count("media.created", doc2); n != 2 {
			return fmt.Sprintf("media calls %d, want 2 (the redelivery runs every part)", n)
		}
		if f.p.Stats().Pending != 0 {
			return "events pending"
		}
		return ""
	})
	if e, _ := f.entry("bob", "r"); e.UnreadCount != 2 {
		t.Errorf("bob's unread after a redelivered message = %d, want 2", e.UnreadCount)
	}
	if c := f.badge("bob"); c.Unread != 2 {
		t.Errorf("bob's badge after a redelivered message = %d, want 2", c.Unread)
	}
	if s := f.p.Stats(); s.Retried < 1 {
		t.Errorf("Stats().Retried = %d, want at least 1", s.Retried)
	}

	membership := model.MembershipPath("bob", "r")
	before := rec.count("push.membership", membership) // the join
	f.markRead(bob, "bob", "r", m2)
	f.eventually("read", func() string {
		e, _ := f.entry("bob", "r")
		if e.UnreadCount != 0 || rec.count("push.membership", membership) != before+1 {
			return fmt.Sprintf("bob's unread %d, push membership calls %d", e.UnreadCount, rec.count("push.membership", membership))
		}
		return ""
	})
}
