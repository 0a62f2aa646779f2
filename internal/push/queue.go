package push

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// maxRecentIDs is how many handled message ids an entry remembers, so that a duplicate
// delivery of a message event is recognised even after the message was pushed.
const maxRecentIDs = 100

// entry is pushQueue/{uid}_{roomId}: the notification state of one recipient and room.
// Its fields are model.PushQueueEntry's (the data model documents them). It lives as long as
// the membership: after a send it stays, without dueAt, as the memory of the window and
// of the message ids already handled; the membership trigger deletes it on leave.
//
// The state machine:
//   - a message arrives (trigger, in a guarded commit): unless its id is in RecentIDs, it is
//     added to the pending set (MessageIDs, Count). It is due now when it is urgent (a
//     mention, a direct room) or no window is open; else when the window ends. A message
//     created inside a window that ended before its event was handled (a late event)
//     waits one Window from now rather than being pushed alone.
//   - due now and not leased: the trigger claims the entry in the same commit
//     (LeaseOwner/LeaseID/LeaseUntil, DueAt = LeaseUntil, WindowUntil = now + Window) and
//     sends; due later: the flusher claims it at DueAt the same way.
//   - while leased, new messages join the pending set; urgent ones note NextDueAt = now,
//     the others wait for the window the push in flight opens.
//   - after the send, complete (a guarded commit that checks the lease is still ours)
//     restarts the window at the send (WindowUntil = now + Window) if a device got it,
//     subtracts what was sent (LeaseCount messages, ids up to LeaseNewestID) and
//     schedules the rest at NextDueAt, else at the window's end; a transient failure
//     reschedules everything with backoff.
//   - the send runs under a deadline sendDeadline before LeaseUntil (deliver.go): a send
//     still stuck in FCM then is given up and recorded as a transient failure while the
//     lease is still ours, so no other instance can claim the entry while it is in flight.
//   - a crash after the claim leaves DueAt = LeaseUntil: when the lease expires the entry
//     is due again and the flusher (or the next message) sends it. At-least-once.
type entry struct {
	model.PushQueueEntry // the document; entry adds the state machine's methods
}

// claimable reports whether e is due at now and nobody holds its lease.
func (e *entry) claimable(now time.Time) bool {
	return !e.DueAt.IsZero() && !e.DueAt.After(now) && !e.Leased(now)
}

func (e *entry) clearLease() {
	e.LeaseOwner, e.LeaseID, e.LeaseUntil, e.LeaseCount, e.LeaseNewestID = "", "", time.Time{}, 0, ""
}

// clearPending forgets every pending message.
func (e *entry) clearPending() {
	e.Count, e.MessageIDs, e.SenderIDs, e.MentionIDs, e.Mentioned = 0, nil, nil, nil, false
	e.FirstAt, e.DueAt, e.NextDueAt = time.Time{}, time.Time{}, time.Time{}
	e.Attempts, e.LastError = 0, ""
}

// claim is a lease on one entry: what the holder sends and must complete.
type claim struct {
	uid, roomID string
	leaseID     string
	until       time.Time // the lease's end (LeaseUntil)
	count       int
	ids         []string // pending ids at claim time, oldest first
	senders     []string // their senders, aligned with the end of ids (SenderIDs)
	mentionIDs  []string
	lastAt      time.Time // createdAt of the newest message covered
	attempts    int
	// Set at send time (recheck.go), never written back: the items dropped because the
	// recipient blocks their sender, and whether only mentions count (the "mentions"
	// level in a group). The claim still covers every item: complete subtracts them all.
	dropped      map[string]bool
	mentionsOnly bool
}

func (c *claim) newestID() string {
	if len(c.ids) == 0 {
		return ""
	}
	return c.ids[len(c.ids)-1]
}

// featuredID is the message the notification shows and links to: the newest mention of
// the recipient, else the newest message; items dropped at send time are passed over
// ("" when none is left).
func (c *claim) featuredID() string {
	if id := newestKept(c.mentionIDs, c.dropped); id != "" {
		return id
	}
	return newestKept(c.ids, c.dropped)
}

// claimLocked takes the lease on e (read in the commit that writes it) and returns the
// claim.
func (n *Notifier) claimLocked(e *entry, now time.Time) *claim {
	e.LeaseOwner = n.instance
	e.LeaseID = randomID(8)
	e.LeaseUntil = now.Add(n.cfg.Lease)
	e.LeaseCount = e.Count
	e.LeaseNewestID = ""
	if len(e.MessageIDs) > 0 {
		e.LeaseNewestID = e.MessageIDs[len(e.MessageIDs)-1]
	}
	e.DueAt = e.LeaseUntil // due again only if this claim is never completed
	e.NextDueAt = time.Time{}
	e.WindowUntil = now.Add(n.cfg.Window)
	return &claim{
		uid:        e.UID,
		roomID:     e.RoomID,
		leaseID:    e.LeaseID,
		until:      e.LeaseUntil,
		count:      e.Count,
		ids:        slices.Clone(e.MessageIDs),
		senders:    slices.Clone(e.SenderIDs),
		mentionIDs: slices.Clone(e.MentionIDs),
		lastAt:     e.LastAt,
		attempts:   e.Attempts,
	}
}

// claimEach calls f on every item, limit calls at a time, and gathers the claims it
// returns (in no particular order) and all its errors.
func claimEach[T any](items []T, limit int, f func(T) (*claim, error)) ([]*claim, error) {
	var mu sync.Mutex
	var claims []*claim
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := f(it)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if c != nil {
				claims = append(claims, c)
			}
		})
	}
	wg.Wait()
	return claims, errors.Join(errs...)
}

// incoming is a new message for one recipient.
type incoming struct {
	id        string
	createdAt time.Time
	sender    string // the sender (the reactor of a reaction)
	mention   bool   // mentions the recipient
	urgent    bool   // a mention or a direct room: never waits for a window
	digest    bool   // a large room (messages and reactions): never pushed at once unless urgent
}

// enqueue adds a message to the recipient's entry and, when it is due now and nobody
// holds the lease, claims the entry. A message already handled is a no-op, which makes
// the message trigger idempotent.
func (n *Notifier) enqueue(ctx context.Context, uid, roomID string, in incoming) (*claim, error) {
	ref := n.db.Doc(model.PushQueuePath(uid, roomID))
	var c *claim
	err := n.updateEntry(ctx, ref, func(e *entry) *entry {
		c = nil
		if e == nil {
			e = &entry{model.PushQueueEntry{UID: uid, RoomID: roomID}}
		}
		if slices.Contains(e.RecentIDs, in.id) {
			return nil // a duplicate delivery
		}
		now := n.now()
		e.RecentIDs = appendCapped(e.RecentIDs, in.id, maxRecentIDs)
		if e.Count == 0 {
			e.FirstAt = in.createdAt
		}
		e.Count++
		e.SenderIDs = appendCapped(trimSenders(e.SenderIDs, len(e.MessageIDs)), in.sender, model.MaxDigestMessageIDs)
		e.MessageIDs = appendCapped(e.MessageIDs, in.id, model.MaxDigestMessageIDs)
		if in.mention {
			e.MentionIDs = appendCapped(e.MentionIDs, in.id, model.MaxDigestMessageIDs)
		}
		e.Mentioned = len(e.MentionIDs) > 0
		if in.createdAt.After(e.LastAt) {
			e.LastAt = in.createdAt
		}
		// When the message is due: at once, or when the window of the last push ends.
		// The window belongs to the push, so a push in flight (a lease) opens it when it
		// completes (complete schedules what waits for it); a message created inside a
		// window whose event comes after the window ended (events are processed
		// concurrently and out of order, and a burst's commits queue up on this
		// entry) is late, not the start of a new conversation: it gets a window of its
		// own to collect its siblings instead of a second immediate push.
		var want time.Time // zero: the window of the push in flight
		switch {
		case in.urgent:
			want = now
		case e.Leased(now):
		case now.Before(e.WindowUntil):
			want = e.WindowUntil
		case in.createdAt.Before(e.WindowUntil), in.digest:
			want = now.Add(n.cfg.Window)
		default:
			want = now
		}
		if e.Leased(now) {
			e.NextDueAt = earliest(e.NextDueAt, want)
		} else {
			if e.Count == 1 {
				e.DueAt = time.Time{} // nothing was pending: no schedule to keep
			}
			e.DueAt = earliest(e.DueAt, want)
			if !e.DueAt.After(now) {
				c = n.claimLocked(e, now)
			}
		}
		e.UpdatedAt = now
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("queue message %s for %s: %w", in.id, uid, err)
	}
	return c, nil
}

// tryClaim claims a due entry for the flusher; nil when it is not due, leased, or has
// nothing pending (then its stale schedule is cleared).
func (n *Notifier) tryClaim(ctx context.Context, uid, roomID string) (*claim, error) {
	ref := n.db.Doc(model.PushQueuePath(uid, roomID))
	var c *claim
	err := n.updateEntry(ctx, ref, func(e *entry) *entry {
		c = nil
		now := n.now()
		if e == nil || !e.claimable(now) {
			return nil
		}
		if e.Count <= 0 {
			e.clearPending()
			e.clearLease()
		} else {
			c = n.claimLocked(e, now)
		}
		e.UpdatedAt = now
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("claim push queue entry %s: %w", model.PushQueueID(uid, roomID), err)
	}
	return c, nil
}

// outcome is what became of a claimed notification.
type outcome struct {
	// done: sent, or deliberately not sent (suppressed, read, no devices, permanent
	// errors). Not done: every device failed transiently; the entry is retried.
	done bool
	// sent: at least one device accepted it (a window is open now).
	sent       bool
	reason     string        // why not sent, or the transient failure
	retryAfter time.Duration // the longest Retry-After FCM asked for
}

// complete records the outcome of c. When messages that arrived meanwhile are already
// due (a mention or a direct message during the send) and reclaim is set, it claims the
// entry again and returns the new claim. A lease that is no longer ours (it expired and
// another instance took over) changes nothing: that instance completes it.
func (n *Notifier) complete(ctx context.Context, c *claim, out outcome, reclaim bool) (*claim, error) {
	ref := n.db.Doc(model.PushQueuePath(c.uid, c.roomID))
	var next *claim
	gaveUp := false
	err := n.updateEntry(ctx, ref, func(e *entry) *entry {
		next, gaveUp = nil, false
		if e == nil || e.LeaseID != c.leaseID {
			return nil
		}
		now := n.now()
		e.UpdatedAt = now
		e.clearLease()
		if !out.done {
			e.Attempts++
			e.LastError = out.reason
			if e.Attempts < n.cfg.MaxAttempts {
				e.DueAt = now.Add(max(n.entryBackoff(e.Attempts), out.retryAfter))
				e.NextDueAt = time.Time{}
				return e
			}
			gaveUp = true
		}
		if out.sent && !e.WindowUntil.IsZero() {
			// The window runs from the push, not from the claim: a send held up (by
			// the other recipients' commits, by FCM retries) must not use up the
			// window of the burst it announces. A window the recipient closed by
			// reading during the send stays closed.
			e.WindowUntil = now.Add(n.cfg.Window)
		}
		// Forget what this claim covered; keep what arrived during the lease.
		e.Count = max(e.Count-c.count, 0)
		if i := slices.Index(e.MessageIDs, c.newestID()); i >= 0 {
			e.MessageIDs = slices.Clone(e.MessageIDs[i+1:])
			e.SenderIDs = slices.Clone(trimSenders(e.SenderIDs, len(e.MessageIDs)))
		}
		e.MentionIDs = slices.DeleteFunc(e.MentionIDs, func(id string) bool { return !slices.Contains(e.MessageIDs, id) })
		e.Mentioned = len(e.MentionIDs) > 0
		e.Attempts, e.LastError = 0, ""
		if e.Count == 0 {
			e.clearPending()
			if !out.sent {
				e.WindowUntil = time.Time{} // nothing was shown: the next message goes at once
			}
			return e
		}
		e.FirstAt = c.lastAt
		// Urgent messages that came during the send are due at once, the others when
		// the window ends (now, if the recipient closed it meanwhile).
		due := earliest(e.NextDueAt, e.WindowUntil)
		if due.IsZero() {
			due = now
		}
		e.DueAt, e.NextDueAt = due, time.Time{}
		if reclaim && !e.DueAt.After(now) {
			next = n.claimLocked(e, now)
		}
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("complete push queue entry %s: %w", model.PushQueueID(c.uid, c.roomID), err)
	}
	if gaveUp {
		n.m.failed.WithLabelValues(FailGaveUp).Inc()
		n.log.Error("push given up", "recipient", c.uid, "room", c.roomID, "attempts", n.cfg.MaxAttempts, "lastError", out.reason)
	}
	return next, nil
}

// entryBackoff is the wait before a queue entry whose send failed is tried again.
func (n *Notifier) entryBackoff(attempts int) time.Duration {
	return doubled(n.cfg.RetryBase, attempts, 10*time.Minute)
}

// dropPending forgets the pending digest of (uid, roomID) when the membership says it
// is no longer wanted: the room was read past its newest message (which also closes the
// window: the next message is pushed at once), muted, or set to "none". A nil membership
// (left the room) deletes the entry. Entries under lease are left to the sender, which
// checks the same conditions before sending.
func (n *Notifier) dropPending(ctx context.Context, uid, roomID string, m *model.Membership) error {
	ref := n.db.Doc(model.PushQueuePath(uid, roomID))
	if m == nil {
		if _, err := ref.Delete(ctx); err != nil {
			return fmt.Errorf("delete push queue entry %s: %w", ref.ID, err)
		}
		return nil
	}
	var dropped string
	err := n.updateEntry(ctx, ref, func(e *entry) *entry {
		dropped = ""
		now := n.now()
		if e == nil {
			return nil
		}
		reason, closeWindow := dropReason(e, m, now)
		if reason == "" {
			return nil // most read-pointer moves find nothing to do
		}
		if e.Count > 0 && !e.Leased(now) {
			e.clearPending()
			dropped = reason
		}
		if closeWindow {
			e.WindowUntil = time.Time{}
		}
		e.UpdatedAt = now
		return e
	})
	if err != nil {
		return fmt.Errorf("drop push queue entry %s: %w", ref.ID, err)
	}
	if dropped != "" {
		n.m.suppressed.WithLabelValues(dropped).Inc()
	}
	return nil
}

// dropReason says whether m makes e's pending digest unwanted, and whether the window
// should close (the recipient caught up).
func dropReason(e *entry, m *model.Membership, now time.Time) (reason string, closeWindow bool) {
	pending := e.Count > 0 && !e.Leased(now)
	switch {
	case readPast(m, e.LastAt):
		if pending || e.WindowUntil.After(now) {
			return ReasonRead, e.WindowUntil.After(now)
		}
	case pending && m.Muted(now):
		return ReasonMuted, false
	case pending && m.Notifications == model.NotifyNone:
		return ReasonLevelNone, false
	}
	return "", false
}

// updateEntry runs f on a fresh read of the queue entry at ref (nil when it does not
// exist) and writes the entry f returns, if any, provided the document did not change
// since the read; else f runs again on a fresh read. These are optimistic commits
// (internal/optimistic), not read-write transactions: a burst of messages updates one
// entry per recipient from many events at once, and the emulator resolves lock
// conflicts between transactions only by timing them out. f may run several times and
// must set everything it reports afresh each time.
func (n *Notifier) updateEntry(ctx context.Context, ref *firestore.DocumentRef, f func(e *entry) *entry) error {
	return optimistic.Commit(ctx, n.db, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := n.db.GetAll(ctx, []*firestore.DocumentRef{ref})
		if err != nil {
			return err
		}
		var cur *entry
		if snaps[0].Exists() {
			cur = new(entry)
			if err := snaps[0].DataTo(cur); err != nil {
				return fmt.Errorf("decode %s: %w", ref.Path, err)
			}
		}
		if e := f(cur); e != nil {
			w.Put(snaps[0], e)
		}
		return nil
	})
}

// appendCapped appends v to s and keeps the newest max elements.
func appendCapped(s []string, v string, maxLen int) []string {
	s = append(s, v)
	if len(s) > maxLen {
		s = slices.Clone(s[len(s)-maxLen:])
	}
	return s
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
