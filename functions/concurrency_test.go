package functions

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/inbox"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestConcurrentSenders: 20 concurrent senders (4 goroutines for each of 5 members) send
// 5 messages each in one room, with mentions, some deletions and read-pointer moves in
// between. Once the events have settled, every member's unreadCount, mentionCount and
// badge equal the counts computed from the messages themselves, and the room's
// messageCount and lastMessage are exact.
func TestConcurrentSenders(t *testing.T) {
	const (
		perSender = 5
		senders   = 20
	)
	f := newFixture(t, fixtureOpts{})
	members := []string{"m1", "m2", "m3", "m4", "m5"}
	f.room("busy", model.RoomGroup, "Busy", members...)
	f.room("quiet", model.RoomGroup, "Quiet", members...) // a second room in every badge
	clients := map[string]*firestore.Client{}
	for _, u := range members {
		clients[u] = f.env.UserClient(u, nil)
	}
	for _, u := range members {
		f.joined(u, "busy", "quiet")
	}
	f.send(clients["m1"], "m1", "quiet", "a quiet message")

	// catchUp moves uid's read pointer to message id unless it is further already (the
	// rules refuse a pointer moving back; the 4 goroutines of one member race).
	var pointers sync.Map // uid -> *sync.Mutex
	catchUp := func(uid, id string) error {
		mu, _ := pointers.LoadOrStore(uid, &sync.Mutex{})
		mu.(*sync.Mutex).Lock()
		defer mu.(*sync.Mutex).Unlock()
		c := clients[uid]
		snap, err := c.Doc(model.MessagePath("busy", id)).Get(f.ctx)
		if err != nil {
			return err
		}
		var m model.Message
		var ms model.Membership
		if err := snap.DataTo(&m); err != nil {
			return err
		}
		msSnap, err := c.Doc(model.MembershipPath(uid, "busy")).Get(f.ctx)
		if err != nil {
			return err
		}
		if err := msSnap.DataTo(&ms); err != nil {
			return err
		}
		if !m.CreatedAt.After(ms.LastReadAt) {
			return nil
		}
		_, err = c.Doc(model.MembershipPath(uid, "busy")).Update(f.ctx, []firestore.Update{
			{Path: "lastReadAt", Value: m.CreatedAt}, {Path: "lastReadMessageId", Value: id},
		})
		return err
	}
	var wg sync.WaitGroup
	for i := range senders {
		uid := members[i%len(members)]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for j := range perSender {
				var mentions []string
				if rng.IntN(3) == 0 {
					mentions = []string{members[rng.IntN(len(members))]}
				}
				id, err := f.trySend(clients[uid], uid, "busy", fmt.Sprintf("%d.%d", i, j), mentions...)
				if err != nil {
					t.Error(err)
					return
				}
				switch rng.IntN(10) {
				case 0: // delete it again
					if _, err := clients[uid].Doc(model.MessagePath("busy", id)).Update(f.ctx, []firestore.Update{
						{Path: "text", Value: ""}, {Path: "mentions", Value: firestore.Delete},
						{Path: "deletedAt", Value: firestore.ServerTimestamp}, {Path: "deletedBy", Value: uid},
					}); err != nil {
						t.Errorf("delete %s: %v", id, err)
					}
				case 1: // the sender catches up on the room
					if err := catchUp(uid, id); err != nil {
						t.Errorf("catch up %s: %v", uid, err)
					}
				}
			}
		})
	}
	wg.Wait()

	// The truth, from the messages.
	msgs, err := f.db.Collection(model.MessagesCollectionPath("busy")).Documents(f.ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != senders*perSender {
		t.Fatalf("messages = %d, want %d", len(msgs), senders*perSender)
	}
	type message struct {
		id string
		m  model.Message
	}
	var all []message
	for _, s := range msgs {
		var m model.Message
		if err := s.DataTo(&m); err != nil {
			t.Fatal(err)
		}
		all = append(all, message{s.Ref.ID, m})
	}
	newest := slices.MaxFunc(all, func(a, b message) int {
		if c := a.m.CreatedAt.Compare(b.m.CreatedAt); c != 0 {
			return c
		}
		if a.id < b.id {
			return -1
		}
		return 1
	})
	want := func(uid string) (unread, mentions int) {
		var ms model.Membership
		f.get(model.MembershipPath(uid, "busy"), &ms)
		for _, x := range all {
			if x.m.SenderID == uid || !x.m.CreatedAt.After(ms.LastReadAt) || x.m.Deleted() {
				continue
			}
			unread++
			if slices.Contains(x.m.Mentions, uid) {
				mentions++
			}
		}
		return unread, mentions
	}

	start := time.Now()
	f.eventually("settled", func() string {
		r := f.roomDoc("busy")
		if r.MessageCount != int64(len(all)) || r.LastMessage == nil || r.LastMessage.ID != newest.id {
			return fmt.Sprintf("room = count %d last %+v, want %d, %s", r.MessageCount, r.LastMessage, len(all), newest.id)
		}
		for _, uid := range members {
			u, m := want(uid)
			e, _ := f.entry(uid, "busy")
			q, _ := f.entry(uid, "quiet")
			c := f.badge(uid)
			if e.UnreadCount != u || e.MentionCount != m || e.LastMessage == nil || e.LastMessage.ID != newest.id {
				return fmt.Sprintf("%s's entry = unread %d mentions %d last %v, want %d %d %s", uid, e.UnreadCount, e.MentionCount, e.LastMessage, u, m, newest.id)
			}
			if c.Unread != u+q.UnreadCount || c.Mentions != m+q.MentionCount {
				return fmt.Sprintf("%s's badge = %+v, want %d/%d", uid, c, u+q.UnreadCount, m+q.MentionCount)
			}
		}
		return ""
	})
	t.Logf("settled %v after the last write; local door: %+v", time.Since(start), f.p.Stats())

	// The same answer straight from the aggregation queries the handlers use.
	for _, uid := range members {
		var ms model.Membership
		f.get(model.MembershipPath(uid, "busy"), &ms)
		u, m, err := inbox.New(f.db, f.clock).Counts(f.ctx, "busy", uid, ms.LastReadAt)
		wu, wm := want(uid)
		if err != nil || u != wu || m != wm {
			t.Errorf("Counts(%s) = %d, %d, %v, want %d, %d", uid, u, m, err, wu, wm)
		}
	}
}
