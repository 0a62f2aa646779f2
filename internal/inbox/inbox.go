// Package inbox keeps the documents derived from messages and memberships exact: the
// room's lastMessage, lastMessageAt and messageCount; each member's inbox entry
// (users/{uid}/inbox/{roomId}: preview, unreadCount, mentionCount, muted, title); the
// private membership created on join. The badge totals are not stored: Badge sums the
// entries' counts when asked.
//
// Triggers call it with ids only. Every method re-reads its sources (the room, the
// message, the membership, the tallies) instead of trusting the event that caused the
// call, so duplicates and reordered events change nothing: the result is a function of
// the current data, not of the order of events.
//
// Concurrency (see package optimistic): a method reads the derived document first, then
// its sources, and commits guarded by the derived document's update time; every
// successful attempt writes the derived document (at least updatedAt), even when the
// values are unchanged. Together: the last commit to a derived document read its
// sources after every earlier commit to it, and every change of a source is followed by
// an attempt that reads it, so the last commit reflects every source change. The
// "always write" rule closes the ABA hole (a message created and deleted before the
// first refresh runs: a later attempt that saw no change and skipped its write would let
// an earlier, stale attempt commit). The room document, the hottest one, is the
// exception: ApplyMessage writes it when its values change or when the message is its
// current last message; its lastMessage only ever moves to a newer message or to the
// current state of the same one, so a skipped write cannot hide a newer state.
package inbox

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/coalesce"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// Field names of the documents the package reads in queries and writes with updates;
// they equal the firestore tags of the model types.
const (
	fCreatedAt     = "createdAt"
	fSenderID      = "senderId"
	fType          = "type"
	fDeletedAt     = "deletedAt"
	fMentions      = "mentions"
	fUnreadCount   = "unreadCount"
	fMentionCount  = "mentionCount"
	fLastMessage   = "lastMessage"
	fLastMessageAt = "lastMessageAt"
	fMessageCount  = "messageCount"
	fMuted         = "muted"
	fUpdatedAt     = "updatedAt"
	fTitle         = "title"
	fPhotoURL      = "photoURL"
	fCounted       = "counted"
)

// Store derives the inbox documents. Create it with New.
type Store struct {
	db        *firestore.Client
	clock     clock.Clock
	refreshes *coalesce.Group[bool, struct{}]          // one Refresh at a time per entry (arg: recount)
	applies   *coalesce.Group[map[string]string, Room] // one ApplyMessage commit at a time per room
	fanOuts   *coalesce.Group[fanOutBatch, struct{}]   // one FanOut at a time per room
	// large gathers the fan-outs of rooms of at least largeMembers (LargeRooms); nil: off.
	large        *coalesce.Debounced[fanOutBatch, struct{}]
	largeMembers int
}

// New returns a Store writing with the admin client db, taking "now" (updatedAt, mute
// expiry) from clk.
func New(db *firestore.Client, clk clock.Clock, opts ...Option) *Store {
	s := &Store{db: db, clock: clk,
		refreshes: coalesce.New[bool, struct{}](func(a, b bool) bool { return a || b }),
		applies:   coalesce.New[map[string]string, Room](mergeBatches),
		fanOuts:   coalesce.New[fanOutBatch, struct{}](mergeFanOuts),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// now is the clock's time as Firestore stores it (UTC, microseconds).
func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Store) commit(ctx context.Context, attempt optimistic.Attempt) error {
	return optimistic.Commit(ctx, s.db, attempt)
}

// Room is what ApplyMessage tells the caller about the message's room.
type Room struct {
	Exists bool // false: the room is gone; the event must do nothing
	model.Room
}

// ApplyMessage brings the room of a message up to date with the message's current
// state: messageCount counts it once while it exists (tombstones included: they keep
// their place in the history), and lastMessage is the newest message by (createdAt,
// id) — an older message never replaces a newer one; the same message replaces itself
// (edits, and a tombstone's empty preview). A hard-deleted lastMessage is replaced by
// the newest remaining message. It returns the room as committed, for the fan-out; a
// room that does not exist is left alone (a late event for a deleted room).
//
// sender, when known from the event (senderId never changes), lets the sender's
// profile (for lastMessage.senderName) be read together with the room.
//
// Concurrent calls for one room in this process are applied together, in one commit
// (package coalesce): the room document is the hottest document of a busy room, and
// Firestore sustains about one write per second on a document.
func (s *Store) ApplyMessage(ctx context.Context, roomID, messageID, sender string) (Room, error) {
	room, err := s.ApplyMessages(ctx, roomID, map[string]string{messageID: sender})
	if err != nil {
		return Room{}, fmt.Errorf("apply message %s/%s to room: %w", roomID, messageID, err)
	}
	return room, nil
}

// ApplyMessages is ApplyMessage for several messages of one room at once: batch maps
// each message id to its sender ("" when unknown). The caller must not change batch
// afterwards.
func (s *Store) ApplyMessages(ctx context.Context, roomID string, batch map[string]string) (Room, error) {
	return s.applies.Do(ctx, roomID, batch, func(ctx context.Context, batch map[string]string) (Room, error) {
		return s.applyMessages(ctx, roomID, batch)
	})
}

// MergeBatches merges two batches of message id -> sender into a new map, the sender
// known in either winning over "" (the merge for coalescing calls of ApplyMessages).
func MergeBatches(a, b map[string]string) map[string]string { return mergeBatches(a, b) }

// mergeBatches merges two batches of message id -> sender (a new map: the coalescer
// keeps the first).
func mergeBatches(a, b map[string]string) map[string]string {
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		if m[k] == "" {
			m[k] = v
		}
	}
	return m
}

// applyMessages is ApplyMessage for a batch of message ids (-> sender, or "").
func (s *Store) applyMessages(ctx context.Context, roomID string, batch map[string]string) (Room, error) {
	ids := slices.Sorted(maps.Keys(batch))
	roomRef := s.db.Doc(model.RoomPath(roomID))
	refs := []*firestore.DocumentRef{roomRef}
	// rooms/{roomId}/counted/{messageId} is one backend-only marker per message saying
	// whether it is included in the room's messageCount, so that a duplicate created
	// event never counts a message twice.
	for _, id := range ids {
		refs = append(refs, s.db.Doc(model.MessagePath(roomID, id)), roomRef.Collection(model.CountedCollection).Doc(id))
	}
	senders := map[string]int{} // uid -> index of users/{uid} in refs
	for _, id := range ids {
		if uid := batch[id]; uid != "" {
			if _, ok := senders[uid]; !ok {
				senders[uid] = len(refs)
				refs = append(refs, s.db.Doc(model.UserPath(uid)))
			}
		}
	}
	var out Room
	err := s.commit(ctx, func(ctx context.Context, w *optimistic.Writes) error {
		out = Room{}
		snaps, err := s.db.GetAll(ctx, refs)
		if err != nil {
			return fmt.Errorf("read room %s and %d messages: %w", roomID, len(ids), err)
		}
		roomSnap := snaps[0]
		if !roomSnap.Exists() {
			return nil
		}
		var room model.Room
		if err := roomSnap.DataTo(&room); err != nil {
			return fmt.Errorf("decode room %s: %w", roomID, err)
		}
		count := room.MessageCount
		cur := room.LastMessage
		lm := cur
		rewrite := false // the last message is in the batch: write it even if unchanged
		purged := false  // the last message was hard-deleted
		for i, id := range ids {
			msgSnap, markSnap := snaps[1+2*i], snaps[2+2*i]
			// messageCount: the marker says whether this message is counted.
			counted := false
			if markSnap.Exists() {
				v, _ := markSnap.DataAt(fCounted)
				counted, _ = v.(bool)
			}
			switch exists := msgSnap.Exists(); {
			case exists && !counted:
				count++
				s.setMark(w, markSnap, true)
			case !exists && counted:
				count = max(count-1, 0)
				s.setMark(w, markSnap, false)
			case !exists && !markSnap.Exists():
				// A purge seen before the creation was applied: leave an uncounted
				// marker, so that a concurrent, older reading of the message (that still
				// saw it) fails its guarded create of the marker and starts over.
				s.setMark(w, markSnap, false)
			}
			if cur != nil && cur.ID == id {
				rewrite = true
				purged = !msgSnap.Exists()
			}
			if !msgSnap.Exists() {
				continue
			}
			// lastMessage: the newest by (createdAt, id); the same message replaces itself.
			var m model.Message
			if err := msgSnap.DataTo(&m); err != nil {
				return fmt.Errorf("decode message %s/%s: %w", roomID, id, err)
			}
			if m.CreatedAt.IsZero() {
				m.CreatedAt = msgSnap.CreateTime
			}
			if lm != nil && lm.ID != id && !newer(m.CreatedAt, id, lm.SentAt, lm.ID) {
				continue // older: the preview stays
			}
			var name string
			if j, ok := senders[m.SenderID]; ok {
				name = nameOf(snaps[j])
			} else if name, err = s.displayName(ctx, m.SenderID); err != nil {
				return err
			}
			p := PreviewOf(id, m, name)
			lm = &p
		}
		if purged && lm != nil && lm.ID == cur.ID {
			// The newest message was hard-deleted (a purge, an erasure) and nothing in the
			// batch is newer: the newest remaining message takes its place.
			if lm, err = s.newestMessage(ctx, roomID); err != nil {
				return err
			}
		}
		var updates []firestore.Update
		if count != room.MessageCount {
			room.MessageCount = count
			updates = append(updates, firestore.Update{Path: fMessageCount, Value: count})
		}
		changed := (lm == nil) != (cur == nil) || (lm != nil && *lm != *cur)
		if changed || (rewrite && lm != nil) {
			// A rewrite of an unchanged last message still commits: a concurrent, older
			// reading of the same message must fail its guard (the package comment's ABA).
			if lm == nil {
				updates = append(updates, firestore.Update{Path: fLastMessage, Value: firestore.Delete})
			} else {
				updates = append(updates, firestore.Update{Path: fLastMessage, Value: *lm})
				if lm.SentAt.After(room.LastMessageAt) {
					room.LastMessageAt = lm.SentAt
					updates = append(updates, firestore.Update{Path: fLastMessageAt, Value: lm.SentAt})
				}
			}
			room.LastMessage = lm
		}
		w.Update(roomSnap, updates)
		out = Room{Exists: true, Room: room}
		return nil
	})
	return out, err
}

func (s *Store) setMark(w *optimistic.Writes, snap *firestore.DocumentSnapshot, counted bool) {
	if snap.Exists() {
		w.Update(snap, []firestore.Update{{Path: fCounted, Value: counted}, {Path: fUpdatedAt, Value: s.now()}})
		return
	}
	w.Create(snap.Ref, map[string]any{fCounted: counted, fUpdatedAt: s.now()})
}

// newestMessage returns the preview of the newest message of the room, or nil.
func (s *Store) newestMessage(ctx context.Context, roomID string) (*model.LastMessage, error) {
	snaps, err := s.db.Collection(model.MessagesCollectionPath(roomID)).
		OrderBy(fCreatedAt, firestore.Desc).OrderBy(firestore.DocumentID, firestore.Desc).
		Limit(1).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("newest message of %s: %w", roomID, err)
	}
	if len(snaps) == 0 {
		return nil, nil
	}
	var m model.Message
	if err := snaps[0].DataTo(&m); err != nil {
		return nil, fmt.Errorf("decode message %s: %w", snaps[0].Ref.Path, err)
	}
	name, err := s.displayName(ctx, m.SenderID)
	if err != nil {
		return nil, err
	}
	lm := PreviewOf(snaps[0].Ref.ID, m, name)
	return &lm, nil
}

// displayName returns users/{uid}.displayName, or "" when there is no such profile.
func (s *Store) displayName(ctx context.Context, uid string) (string, error) {
	if uid == "" {
		return "", nil
	}
	snap, err := s.db.Doc(model.UserPath(uid)).Get(ctx)
	if firestoreerr.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read user %s: %w", uid, err)
	}
	return nameOf(snap), nil
}

// nameOf returns the displayName of a user snapshot, "" when missing.
func nameOf(snap *firestore.DocumentSnapshot) string {
	if !snap.Exists() {
		return ""
	}
	v, _ := snap.DataAt("displayName")
	name, _ := v.(string)
	return name
}

// PreviewOf returns the lastMessage preview of message id m sent by senderName: the
// text cut by model.PreviewOf, or "" for a tombstone and for a message hidden by reports
// (it keeps its place as the newest message, without its text, until a moderator
// unhides it).
func PreviewOf(id string, m model.Message, senderName string) model.LastMessage {
	lm := model.LastMessage{
		ID:         id,
		SenderID:   m.SenderID,
		SenderName: senderName,
		Type:       m.Type,
		SentAt:     m.CreatedAt.UTC(),
	}
	if !m.Deleted() && !m.Hidden {
		lm.Preview = model.PreviewOf(m.Text)
	}
	return lm
}

// newer reports whether message (at, id) sorts after (curAt, curID): by createdAt, then
// by id, so that two messages with the same timestamp have one order everywhere.
func newer(at time.Time, id string, curAt time.Time, curID string) bool {
	if !at.Equal(curAt) {
		return at.After(curAt)
	}
	return id > curID
}

// Refresh brings uid's inbox entry for roomID up to date: lastMessage and lastMessageAt
// from the room, muted from the membership, and with recount (the read pointer moved, a
// join) both counts recounted from the tallies relative to the membership's lastReadAt
// (see Counts and FanOut). It does nothing when uid has no membership of the room (not
// joined yet, or left: the membership and the entry come and go together).
//
// Concurrent Refreshes of one entry in this process are coalesced (package coalesce): a
// burst of messages in a room costs each member a few recomputations, not one per
// message, and they do not fight over the entry's commit.
func (s *Store) Refresh(ctx context.Context, uid, roomID string, recount bool) error {
	_, err := s.refreshes.Do(ctx, uid+"/"+roomID, recount, func(ctx context.Context, recount bool) (struct{}, error) {
		return struct{}{}, s.refresh(ctx, uid, roomID, recount)
	})
	return err
}

func (s *Store) refresh(ctx context.Context, uid, roomID string, recount bool) error {
	entryRef := s.db.Doc(model.InboxEntryPath(uid, roomID))
	msRef := s.db.Doc(model.MembershipPath(uid, roomID))
	roomRef := s.db.Doc(model.RoomPath(roomID))
	err := s.commit(ctx, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{entryRef, msRef, roomRef})
		if err != nil {
			return fmt.Errorf("read inbox entry: %w", err)
		}
		entrySnap, msSnap, roomSnap := snaps[0], snaps[1], snaps[2]
		if !entrySnap.Exists() || !msSnap.Exists() || !roomSnap.Exists() {
			return nil
		}
		var e model.InboxEntry
		var ms model.Membership
		var room model.Room
		if err := decodeAll(entrySnap, &e, msSnap, &ms, roomSnap, &room); err != nil {
			return err
		}
		unread, mentions := e.UnreadCount, e.MentionCount
		if recount {
			// Both counts, relative to the read pointer as it is now: the tallies are the
			// record of what the message fan-outs counted (see FanOut).
			if unread, mentions, err = s.Counts(ctx, roomID, uid, ms.LastReadAt); err != nil {
				return err
			}
		}
		now := s.now()
		updates := []firestore.Update{
			{Path: fUnreadCount, Value: unread},
			{Path: fMentionCount, Value: mentions},
			{Path: fMuted, Value: ms.Muted(now)},
			{Path: fLastMessageAt, Value: latest(e.LastMessageAt, room.LastMessageAt, room.LastMessage)},
			{Path: fUpdatedAt, Value: now},
		}
		if room.LastMessage != nil {
			updates = append(updates, firestore.Update{Path: fLastMessage, Value: *room.LastMessage})
		} else if e.LastMessage != nil {
			updates = append(updates, firestore.Update{Path: fLastMessage, Value: firestore.Delete})
		}
		if recount {
			updates = append(updates, firestore.Update{Path: fCountedAfter, Value: ms.LastReadAt.UTC()})
		}
		w.Update(entrySnap, updates) // always: see the package comment
		return nil
	})
	if err != nil {
		return fmt.Errorf("refresh inbox %s/%s: %w", uid, roomID, err)
	}
	return nil
}

// latest returns the latest of the entry's and the room's lastMessageAt and the last
// message's sentAt: an entry never moves down the conversation list.
func latest(entryAt, roomAt time.Time, lm *model.LastMessage) time.Time {
	t := entryAt
	if roomAt.After(t) {
		t = roomAt
	}
	if lm != nil && lm.SentAt.After(t) {
		t = lm.SentAt
	}
	return t.UTC()
}

// Counted reports whether message m counts as unread (and, mentioning uid, as a
// mention) for uid: someone else's message of a type people write — not a system
// message ("Alice created the group": Hearth's note about the room, which would make
// every new room start with one unread) — and not deleted. Counts asks Firestore the
// same question; push asks it too (no push for what never counts).
func Counted(m model.Message, uid string) bool {
	return m.Type.ClientWritable() && m.SenderID != uid && !m.Deleted()
}

func decodeAll(pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		snap := pairs[i].(*firestore.DocumentSnapshot)
		if err := snap.DataTo(pairs[i+1]); err != nil {
			return fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
		}
	}
	return nil
}

// isMember reports whether uid belongs to the room: the room exists, lists uid in
// memberIds (what the security rules check) and has a member doc for uid that is not
// banned. It returns the snapshots it decided on.
func isMember(roomSnap, memberSnap *firestore.DocumentSnapshot, uid string) (bool, model.Room, model.Member, error) {
	var room model.Room
	var member model.Member
	if !roomSnap.Exists() || !memberSnap.Exists() {
		return false, room, member, nil
	}
	if err := decodeAll(roomSnap, &room, memberSnap, &member); err != nil {
		return false, room, member, err
	}
	return slices.Contains(room.MemberIDs, uid) && !member.Banned, room, member, nil
}
