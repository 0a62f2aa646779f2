package push

import (
	"slices"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/blocks"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestBlockedSenderPushesNothing: a member who blocks the sender gets no push of
// theirs in a shared group, mentions included; everyone else does, and the blocker
// still gets the others' messages. Lifting the block restores the pushes.
func TestBlockedSenderPushesNothing(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	h.device("carol", "c1", "tok-carol", model.PlatformIOS, h.clock.Now())
	h.block("bob", "alice", true, 0)
	// carol blocks someone else: it changes nothing for alice's messages.
	h.block("carol", "dave", true, 0)
	n := h.notifier(Config{Window: -1})

	h.say(n, "team", "m1", "alice", "hello all")
	h.clock.Advance(time.Second)
	h.say(n, "team", "m2", "alice", "@bob look", "bob")
	if got := tokens(h.fcm.Sent()); !slices.Equal(got, []string{"tok-carol", "tok-carol"}) {
		t.Fatalf("pushes of alice's messages = %q, want carol's two only (bob blocks alice)", got)
	}
	if got := counter(n.m.suppressed, ReasonBlocked); got != 2 {
		t.Errorf("suppressed{reason=blocked} = %v, want 2", got)
	}
	if e := h.entry("bob", "team"); e != nil {
		t.Errorf("bob's queue entry = %+v, want none: a blocked sender's message is not even queued", e)
	}
	h.clock.Advance(time.Second)
	h.say(n, "team", "m3", "carol", "hi bob")
	if got := tokens(h.fcm.Sent()); len(got) != 3 || got[2] != "tok-bob" {
		t.Fatalf("pushes after carol's message = %q, want bob to get it", got)
	}
	h.block("bob", "alice", false, 0)
	h.clock.Advance(time.Second)
	h.say(n, "team", "m4", "alice", "back?")
	if got := h.fcm.SentTo("tok-bob"); len(got) != 2 {
		t.Errorf("bob's pushes after the block was lifted = %d, want 2", len(got))
	}
}

// block writes (or, with on false, deletes) uid's block of other and brings other's
// blockers index up to date, as the onBlockWritten trigger does (with an index of at
// most limit blockers; 0 for the default).
func (h *harness) block(uid, other string, on bool, limit int) {
	h.t.Helper()
	ref := h.db.Doc(model.BlockPath(uid, other))
	var err error
	if on {
		_, err = ref.Set(h.ctx, model.Block{CreatedAt: h.clock.Now()})
	} else {
		_, err = ref.Delete(h.ctx)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	ix, err := blocks.NewIndex(h.db, h.clock, limit)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := ix.Sync(h.ctx, uid, other); err != nil {
		h.t.Fatal(err)
	}
}

// TestBlockedSenderOverflowedIndex: when the sender's blockers index overflowed, the
// blocks are read from the block documents: still nothing for the blockers, and the
// pushes for everyone else, a blocker who lifted the block included.
func TestBlockedSenderOverflowedIndex(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol", "dave")
	for _, uid := range []string{"bob", "carol", "dave"} {
		h.device(uid, uid+"1", "tok-"+uid, model.PlatformAndroid, h.clock.Now())
	}
	h.block("bob", "alice", true, 1)
	h.block("carol", "alice", true, 1) // the second blocker: over the cap of 1
	h.block("dave", "alice", true, 1)
	h.block("dave", "alice", false, 1)
	var idx model.Blockers
	if snap, err := h.db.Doc(model.BlockersPath("alice")).Get(h.ctx); err != nil || snap.DataTo(&idx) != nil || !idx.Overflow {
		t.Fatalf("blockers/alice = %+v (%v), want overflowed", idx, err)
	}
	n := h.notifier(Config{Window: -1})
	h.say(n, "team", "m1", "alice", "@bob @carol hello", "bob", "carol")
	if got := tokens(h.fcm.Sent()); !slices.Equal(got, []string{"tok-dave"}) {
		t.Fatalf("pushes of alice's message = %q, want dave's only", got)
	}
	if got := counter(n.m.suppressed, ReasonBlocked); got != 2 {
		t.Errorf("suppressed{reason=blocked} = %v, want 2", got)
	}
}

// TestBlockersIndexDecides: while the sender's index is exact, it alone says who blocks
// them, at the message stage and at send time alike (one read per message, not one block
// document per member): bob, whom it lists with no block document behind him, gets
// nothing; carol's block document, which it does not list yet (its trigger still in
// flight), is not read, so carol is pushed; dave blocks nobody.
func TestBlockersIndexDecides(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol", "dave")
	h.device("bob", "b1", "tok-bob", model.PlatformAndroid, h.clock.Now())
	h.device("carol", "c1", "tok-carol", model.PlatformIOS, h.clock.Now())
	h.device("dave", "d1", "tok-dave", model.PlatformIOS, h.clock.Now())
	h.set(model.BlockersPath("alice"), model.Blockers{By: []string{"bob"}, UpdatedAt: h.clock.Now()})
	h.set(model.BlockPath("carol", "alice"), model.Block{CreatedAt: h.clock.Now()})
	n := h.notifier(Config{Window: -1})
	h.say(n, "team", "m1", "alice", "hello")
	got := tokens(h.fcm.Sent())
	slices.Sort(got)
	if !slices.Equal(got, []string{"tok-carol", "tok-dave"}) {
		t.Fatalf("pushes = %q, want carol's and dave's (the index lists bob, not carol)", got)
	}
	if got := counter(n.m.suppressed, ReasonBlocked); got != 1 {
		t.Errorf("suppressed{reason=blocked} = %v, want 1 (bob)", got)
	}
}

// TestMentionRateLimit: a sender's messages with mentions push as mentions at most
// MentionsPerMinute times per clock minute; later ones notify as plain messages (a
// "mentions"-only member gets nothing). The quota is per sender, forgets nothing on a
// redelivered event, and starts again the next minute.
func TestMentionRateLimit(t *testing.T) {
	h := newHarness(t)
	// Start at the beginning of a minute, so the first messages share it.
	h.clock.Set(h.clock.Now().Truncate(time.Minute).Add(time.Minute))
	h.room("team", model.RoomGroup, "Team", "alice", "bob", "carol")
	h.device("carol", "c1", "tok-carol", model.PlatformIOS, h.clock.Now())
	h.membership("carol", "team", model.Membership{Notifications: model.NotifyMentions})
	n := h.notifier(Config{Window: 10 * time.Second, MentionsPerMinute: 2})

	m1 := h.say(n, "team", "m1", "alice", "@carol one", "carol")
	h.clock.Advance(time.Second)
	h.say(n, "team", "m2", "alice", "@carol two", "carol")
	if got := len(h.fcm.SentTo("tok-carol")); got != 2 {
		t.Fatalf("mentions within the limit of 2: carol got %d pushes, want 2", got)
	}
	h.clock.Advance(time.Second)
	h.say(n, "team", "m3", "alice", "@carol three", "carol")
	if got := len(h.fcm.SentTo("tok-carol")); got != 2 {
		t.Errorf("third mention in the minute (limit 2): carol got %d pushes, want still 2", got)
	}
	if got := counter(n.m.suppressed, ReasonMentionRate); got != 1 {
		t.Errorf("suppressed{reason=mention_rate} = %v, want 1", got)
	}
	// A redelivered event of m1 neither pushes again nor uses the quota twice.
	if err := n.NotifyMessage(h.ctx, "team", "m1", m1); err != nil {
		t.Fatal(err)
	}
	snap, err := h.db.Doc(mentionQuotaPath("alice", m1.CreatedAt.Truncate(time.Minute))).Get(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var q model.Quota
	if err := snap.DataTo(&q); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.IDs, []string{"m1", "m2"}) || q.Count != 2 {
		t.Errorf("quota = %+v, want m1 and m2 only", q)
	}
	if want := m1.CreatedAt.Truncate(time.Minute).Add(time.Minute + model.QuotaExpiryMargin); !q.ExpireAt.Equal(want) {
		t.Errorf("quota expireAt = %v, want the minute's end + %v = %v (TTL)", q.ExpireAt, model.QuotaExpiryMargin, want)
	}
	// Another sender has their own quota.
	h.say(n, "team", "b1", "bob", "@carol from bob", "carol")
	if got := len(h.fcm.SentTo("tok-carol")); got != 3 {
		t.Errorf("bob's mention: carol got %d pushes, want 3", got)
	}
	// The next minute, alice's mentions push again.
	h.clock.Set(m1.CreatedAt.Truncate(time.Minute).Add(time.Minute))
	h.say(n, "team", "m4", "alice", "@carol four", "carol")
	if got := len(h.fcm.SentTo("tok-carol")); got != 4 {
		t.Errorf("mention in the next minute: carol got %d pushes, want 4", got)
	}
}

// TestMentionRateUnlimited: a negative MentionsPerMinute lets every mention through and
// writes no quota.
func TestMentionRateUnlimited(t *testing.T) {
	h := newHarness(t)
	h.room("team", model.RoomGroup, "Team", "alice", "carol")
	h.device("carol", "c1", "tok-carol", model.PlatformIOS, h.clock.Now())
	h.membership("carol", "team", model.Membership{Notifications: model.NotifyMentions})
	n := h.notifier(Config{Window: 10 * time.Second, MentionsPerMinute: -1})
	for i := range 4 {
		h.say(n, "team", "m"+string(rune('1'+i)), "alice", "@carol", "carol")
	}
	if got := len(h.fcm.SentTo("tok-carol")); got != 4 {
		t.Errorf("unlimited mentions: carol got %d pushes, want 4", got)
	}
	docs, err := h.db.Collection(model.MentionQuotasCollection).Documents(h.ctx).GetAll()
	if err != nil || len(docs) != 0 {
		t.Errorf("mention quotas = %d docs (%v), want none", len(docs), err)
	}
}
