package inbox

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/aggregate"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// Fields of a tally (rooms/{roomId}/tallies/{messageId}) and of an inbox entry that the
// incremental counts use.
const (
	fUnread       = "unread"       // tally: the members whose unreadCount includes the message
	fMentioned    = "mentioned"    // tally: the members whose mentionCount includes it
	fCountedAfter = "countedAfter" // entry: the read pointer its counts are relative to
	fTallySender  = "senderId"     // tally: the message's sender
	fExpireAt     = "expireAt"     // tally: when the TTL policy deletes it
)

// fanOutChunk is how many members one guarded commit of FanOut handles: each costs up
// to one write (the entry), and a commit stays well below Firestore's 500.
const fanOutChunk = 200

// tally is a message's model.Tally. It is what makes the counts incremental and still
// exact: a member's unreadCount is, at all times,
//
//	count(tallies of the room with uid in unread and createdAt > entry.countedAfter)
//
// and mentionCount the same with mentioned (see docs/functions.md, "Incremental counts").
type tally = model.Tally

// FanOut brings the entries of uids in roomID up to date with message messageID as it
// is now: the preview (the room's lastMessage, read again with the entries) and the
// message's part of unreadCount and mentionCount — counted for a member when Counted
// says so and the member does not block the sender (per the sender's blockers index,
// blockers/{sender}, or the block documents when it overflowed),
// mentioned when it also names them. The badge is not stored: it is the sum of the
// entries' counts (see Badge), so the fan-out writes nothing else per member.
// The message's tally records whom it is counted for: an event delivered twice or late
// changes nothing, a deleted or purged message is taken off exactly the counts that
// included it. Members without an entry (not joined, left) are skipped.
//
// sender is the event's word for the sender, used to read its blockers index in the
// same round trip; the message's own senderId decides.
//
// Concurrent FanOuts of one room in this process are coalesced (package coalesce): a
// burst of messages costs each member's entry one write per run, not one per message,
// and the runs do not fight over the entries' guards. A run handles its members in
// commits of fanOutChunk, one after another, each covering every message of the run.
// In large rooms (see LargeRooms) the fan-outs of a window are gathered into one run.
func (s *Store) FanOut(ctx context.Context, roomID, messageID, sender string, uids []string) error {
	b := fanOutBatch{msgs: map[string]string{messageID: sender}, uids: slices.Clone(uids)}
	run := func(ctx context.Context, b fanOutBatch) error {
		_, err := s.fanOuts.Do(ctx, roomID, b, func(ctx context.Context, b fanOutBatch) (struct{}, error) {
			return struct{}{}, s.fanOutBatch(ctx, roomID, b)
		})
		return err
	}
	var err error
	if s.large != nil && len(uids) >= s.largeMembers { // large-room mode: see LargeRooms
		_, err = s.large.Do(ctx, roomID, b, func(ctx context.Context, b fanOutBatch) (struct{}, error) {
			ctx, cancel := context.WithTimeout(ctx, largeRoomRunTimeout)
			defer cancel()
			return struct{}{}, run(ctx, b)
		})
	} else {
		err = run(ctx, b)
	}
	if err != nil {
		return fmt.Errorf("fan out %s/%s: %w", roomID, messageID, err)
	}
	return nil
}

// fanOutBatch is the argument of coalesced FanOuts: message id -> sender, and the
// members to look at (the union; looking at one more member is only more work).
type fanOutBatch struct {
	msgs map[string]string
	uids []string
}

func mergeFanOuts(a, b fanOutBatch) fanOutBatch {
	uids := slices.Clone(a.uids)
	seen := setOf(uids)
	for _, uid := range b.uids {
		if !seen[uid] {
			seen[uid] = true
			uids = append(uids, uid)
		}
	}
	return fanOutBatch{msgs: mergeBatches(a.msgs, b.msgs), uids: uids}
}

func (s *Store) fanOutBatch(ctx context.Context, roomID string, b fanOutBatch) error {
	for start := 0; start < len(b.uids); start += fanOutChunk {
		if err := s.fanOut(ctx, roomID, b.msgs, b.uids[start:min(start+fanOutChunk, len(b.uids))]); err != nil {
			return err
		}
	}
	return nil
}

// fanOut is one guarded commit of FanOut: the messages of batch (id -> sender) for the
// members uids.
func (s *Store) fanOut(ctx context.Context, roomID string, batch map[string]string, uids []string) error {
	ids := slices.Sorted(maps.Keys(batch))
	refs := []*firestore.DocumentRef{s.db.Doc(model.RoomPath(roomID))}
	for _, id := range ids {
		refs = append(refs, s.db.Doc(model.TallyPath(roomID, id)), s.db.Doc(model.MessagePath(roomID, id)))
	}
	entriesAt := len(refs)
	for _, uid := range uids {
		refs = append(refs, s.db.Doc(model.InboxEntryPath(uid, roomID)))
	}
	// The blockers index of every sender (blockers/{sender}), in the same round trip.
	eventSenders := slices.Compact(slices.Sorted(maps.Values(batch)))
	blocksAt := len(refs)
	refs = append(refs, s.blockersRefs(eventSenders)...)
	return s.commit(ctx, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := s.db.GetAll(ctx, refs)
		if err != nil {
			return fmt.Errorf("read room, %d tallies, %d entries: %w", len(ids), len(uids), err)
		}
		roomSnap := snaps[0]
		if !roomSnap.Exists() {
			return nil // a late event for a deleted room
		}
		var room model.Room
		if err := roomSnap.DataTo(&room); err != nil {
			return fmt.Errorf("decode room %s: %w", roomID, err)
		}
		// blocked[uid][sender]: uid blocks sender.
		blocked := map[string]map[string]bool{}
		if err := s.addBlocks(ctx, blocked, snaps[blocksAt:], uids); err != nil {
			return err
		}

		type msgState struct {
			id                string
			snap              *firestore.DocumentSnapshot // the tally's
			t                 tally
			m                 model.Message
			exists            bool
			unread, mentioned map[string]bool
		}
		// expired: the message's tally is gone past its retention (TTL,
		// model.TallyRetention): the message changes no count any more, and no tally
		// is written for it again.
		expired := func(st *msgState, now time.Time) bool {
			return !st.snap.Exists() && st.exists && !model.TallyExpireAt(st.t.CreatedAt, now).After(now)
		}
		msgs := make([]*msgState, len(ids))
		var other []string // senders the events did not name
		for i, id := range ids {
			st := &msgState{id: id, snap: snaps[1+2*i]}
			msgSnap := snaps[2+2*i]
			if st.snap.Exists() {
				if err := st.snap.DataTo(&st.t); err != nil {
					return fmt.Errorf("decode %s: %w", st.snap.Ref.Path, err)
				}
			}
			if st.exists = msgSnap.Exists(); st.exists {
				if err := msgSnap.DataTo(&st.m); err != nil {
					return fmt.Errorf("decode message %s/%s: %w", roomID, id, err)
				}
				if st.m.CreatedAt.IsZero() {
					st.m.CreatedAt = msgSnap.CreateTime
				}
				st.t.CreatedAt, st.t.SenderID = st.m.CreatedAt.UTC(), st.m.SenderID
				if !slices.Contains(eventSenders, st.m.SenderID) && !slices.Contains(other, st.m.SenderID) {
					other = append(other, st.m.SenderID)
				}
			}
			st.unread, st.mentioned = setOf(st.t.Unread), setOf(st.t.Mentioned)
			msgs[i] = st
		}
		if refs := s.blockersRefs(other); len(refs) > 0 {
			// An event named another sender (a forged or odd event): read the
			// blockers index of the real ones.
			list, err := s.db.GetAll(ctx, refs)
			if err != nil {
				return fmt.Errorf("read blockers: %w", err)
			}
			if err := s.addBlocks(ctx, blocked, list, uids); err != nil {
				return err
			}
		}

		now := s.now()
		msgs = slices.DeleteFunc(msgs, func(st *msgState) bool { return expired(st, now) })
		for i, uid := range uids {
			entrySnap := snaps[entriesAt+i]
			if !entrySnap.Exists() {
				continue
			}
			var e model.InboxEntry
			if err := entrySnap.DataTo(&e); err != nil {
				return fmt.Errorf("decode %s: %w", entrySnap.Ref.Path, err)
			}
			after := countedAfter(entrySnap)
			var du, dm int
			counted := false
			for _, st := range msgs {
				want := st.exists && Counted(st.m, uid) && !blocked[uid][st.m.SenderID]
				wantM := want && slices.Contains(st.m.Mentions, uid)
				have, haveM := st.unread[uid], st.mentioned[uid]
				if want == have && wantM == haveM {
					continue
				}
				counted = true
				setIn(st.unread, uid, want)
				setIn(st.mentioned, uid, wantM)
				if st.t.CreatedAt.After(after) {
					du += b2i(want) - b2i(have)
					dm += b2i(wantM) - b2i(haveM)
				}
			}
			lmAt := latest(e.LastMessageAt, room.LastMessageAt, room.LastMessage)
			previewed := !samePreview(e.LastMessage, room.LastMessage) || !lmAt.Equal(e.LastMessageAt)
			if !counted && !previewed {
				continue
			}
			// An entry whose member moves in or out of a tally is always written, even
			// when its counts do not change (the message is older than the read
			// pointer): a concurrent recount that read the tallies before this commit
			// must fail its guard and count again.
			updates := []firestore.Update{
				{Path: fUnreadCount, Value: e.UnreadCount + du},
				{Path: fMentionCount, Value: e.MentionCount + dm},
				{Path: fLastMessageAt, Value: lmAt},
				{Path: fUpdatedAt, Value: now},
			}
			if room.LastMessage != nil {
				updates = append(updates, firestore.Update{Path: fLastMessage, Value: *room.LastMessage})
			} else if e.LastMessage != nil {
				updates = append(updates, firestore.Update{Path: fLastMessage, Value: firestore.Delete})
			}
			w.Update(entrySnap, updates)
		}
		// Every tally is written on every attempt (at least updatedAt), like the inbox
		// entries of Refresh: an older reading of the message (it still existed, say)
		// must fail its guard rather than commit after this one.
		for _, st := range msgs {
			st.t.Unread, st.t.Mentioned, st.t.UpdatedAt = sortedKeys(st.unread), sortedKeys(st.mentioned), now
			st.t.ExpireAt = model.TallyExpireAt(st.t.CreatedAt, now)
			if st.snap.Exists() {
				w.Update(st.snap, []firestore.Update{
					{Path: fUnread, Value: st.t.Unread},
					{Path: fMentioned, Value: st.t.Mentioned},
					{Path: fTallySender, Value: st.t.SenderID},
					{Path: fCreatedAt, Value: st.t.CreatedAt},
					{Path: fUpdatedAt, Value: now},
					{Path: fExpireAt, Value: st.t.ExpireAt},
				})
			} else {
				w.Create(st.snap.Ref, st.t)
			}
		}
		return nil
	})
}

// blockersRefs returns the blockers index (model.Blockers) of each sender; a system
// message's (no valid sender) has none: nobody blocks it.
func (s *Store) blockersRefs(senders []string) []*firestore.DocumentRef {
	var refs []*firestore.DocumentRef
	for _, sender := range senders {
		if model.ValidateID("senderId", sender) == nil {
			refs = append(refs, s.db.Doc(model.BlockersPath(sender)))
		}
	}
	return refs
}

// addBlocks records in blocked[uid][sender] which of uids block the owner of each
// blockers index of list (a missing one: nobody). An overflowed index cannot tell: the
// block documents users/{uid}/blocks/{sender} of uids are read instead.
func (s *Store) addBlocks(ctx context.Context, blocked map[string]map[string]bool, list []*firestore.DocumentSnapshot, uids []string) error {
	mark := func(uid, sender string) {
		if blocked[uid] == nil {
			blocked[uid] = map[string]bool{}
		}
		blocked[uid][sender] = true
	}
	for _, snap := range list {
		sender := snap.Ref.ID
		var idx *model.Blockers
		if snap.Exists() {
			idx = new(model.Blockers)
			if err := snap.DataTo(idx); err != nil {
				return fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
			}
		}
		if idx.Exact() {
			for _, uid := range uids {
				if idx.Blocks(uid) {
					mark(uid, sender)
				}
			}
			continue
		}
		var refs []*firestore.DocumentRef
		for _, uid := range uids {
			if uid != sender {
				refs = append(refs, s.db.Doc(model.BlockPath(uid, sender)))
			}
		}
		if len(refs) == 0 {
			continue
		}
		docs, err := s.db.GetAll(ctx, refs)
		if err != nil {
			return fmt.Errorf("read blocks of %s: %w", sender, err)
		}
		for _, b := range docs {
			if b.Exists() {
				mark(b.Ref.Parent.Parent.ID, sender)
			}
		}
	}
	return nil
}

// countedAfter is the read pointer the entry's counts are relative to (zero for an
// entry written before it was kept: every tallied message then counts).
func countedAfter(entry *firestore.DocumentSnapshot) time.Time {
	v, err := entry.DataAt(fCountedAfter)
	if err != nil {
		return time.Time{}
	}
	t, _ := v.(time.Time)
	return t
}

// Counts counts the tallies of roomID that include uid, created after since: uid's exact
// unreadCount and mentionCount relative to that read pointer, as Refresh recounts them
// (two aggregation queries, in parallel; composite indexes in production, see
// docs/functions.md).
func (s *Store) Counts(ctx context.Context, roomID, uid string, since time.Time) (int, int, error) {
	col := s.db.Collection(model.TalliesCollectionPath(roomID))
	var n [2]int64
	errs := make(chan error, 2)
	for i, field := range []string{fUnread, fMentioned} {
		go func() {
			q := col.Where(field, "array-contains", uid).Where(fCreatedAt, ">", since.UTC())
			res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
			if err != nil {
				errs <- fmt.Errorf("count %s tallies of %s in %s: %w", field, uid, roomID, err)
				return
			}
			n[i] = aggregate.Int(res, "n")
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			return 0, 0, err
		}
	}
	return int(n[0]), int(n[1]), nil
}

func samePreview(a, b *model.LastMessage) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func setOf(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func setIn(m map[string]bool, id string, in bool) {
	if in {
		m[id] = true
	} else {
		delete(m, id)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := slices.Sorted(maps.Keys(m))
	if out == nil {
		out = []string{}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
