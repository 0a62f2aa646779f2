// Package threads keeps the summary of a thread on its root message: replyCount (the
// live replies: a deleted or purged reply no longer counts), lastReplyAt (the newest
// live reply's createdAt) and lastRepliers (the senders of the newest live replies,
// distinct, newest first, at most model.MaxLastRepliers), and the thread's participants
// (rooms/{roomId}/messages/{rootId}/threadParticipants/{uid}, everyone who replied; with
// the root's sender they are whom a reply notifies personally).
//
// A thread is the set of messages whose replyTo is the root, in the root's room (the
// rules check that replyTo names a message of the same room). Exactness follows the
// room's messageCount (package inbox): a backend-only marker per reply
// (threadMarks/{replyId}: counted or not) says whether the reply is in replyCount, and
// every sync reads the marker, the reply and the root and commits the root and the
// marker guarded by their update times, always writing the marker. So a duplicated or
// reordered event finds the marker already right and changes nothing, and the last
// commit read the sources after every earlier one.
package threads

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// Field names (model.Message tags, the marker's fields).
const (
	fReplyCount   = "replyCount"
	fLastReplyAt  = "lastReplyAt"
	fLastRepliers = "lastRepliers"
	fReplyTo      = "replyTo"
	fCreatedAt    = "createdAt"
	fCounted      = "counted"
	fUpdatedAt    = "updatedAt"
)

// Store keeps thread summaries. Create it with New.
type Store struct {
	db    *firestore.Client
	clock clock.Clock
}

// New returns a Store writing with the admin client db, stamping markers with clk.
func New(db *firestore.Client, clk clock.Clock) (*Store, error) {
	if db == nil {
		return nil, errors.New("threads: a Firestore client is required")
	}
	if clk == nil {
		clk = clock.System{}
	}
	return &Store{db: db, clock: clk}, nil
}

func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Participant is rooms/{roomId}/messages/{rootId}/threadParticipants/{uid}.
type Participant struct {
	UID string `firestore:"uid"`
	// At is when Hearth first counted a reply of uid in the thread.
	At time.Time `firestore:"at"`
}

// Sync brings the summary of thread rootID of roomID up to date with reply replyID:
// counted while it exists, is not deleted and replies to rootID, uncounted otherwise.
// A root that does not exist is left alone. rootID comes from the event (the reply's
// replyTo, which never changes); a reply that names another root does not count here.
func (s *Store) Sync(ctx context.Context, roomID, rootID, replyID string) error {
	if rootID == "" || rootID == replyID || model.ValidateID(fReplyTo, rootID) != nil {
		return nil
	}
	rootRef := s.db.Doc(model.MessagePath(roomID, rootID))
	markRef := s.db.Doc(model.ThreadMarkPath(roomID, rootID, replyID))
	replyRef := s.db.Doc(model.MessagePath(roomID, replyID))
	err := optimistic.Commit(ctx, s.db, func(ctx context.Context, w *optimistic.Writes) error {
		// The guarded documents first, then the sources (package inbox's argument).
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{rootRef, markRef})
		if err != nil {
			return err
		}
		rootSnap, markSnap := snaps[0], snaps[1]
		if !rootSnap.Exists() {
			return nil
		}
		replySnap, err := s.db.GetAll(ctx, []*firestore.DocumentRef{replyRef})
		if err != nil {
			return err
		}
		var root, reply model.Message
		if err := rootSnap.DataTo(&root); err != nil {
			return fmt.Errorf("decode %s: %w", rootRef.Path, err)
		}
		live := false
		if replySnap[0].Exists() {
			if err := replySnap[0].DataTo(&reply); err != nil {
				return fmt.Errorf("decode %s: %w", replyRef.Path, err)
			}
			live = reply.ReplyTo == rootID && countable(reply)
		}
		counted := false
		if markSnap.Exists() {
			v, _ := markSnap.DataAt(fCounted)
			counted, _ = v.(bool)
		}
		count := root.ReplyCount
		switch {
		case live && !counted:
			count++
		case !live && counted:
			count = max(count-1, 0)
		}
		lastAt, repliers := root.LastReplyAt, root.LastRepliers
		switch {
		case count == 0:
			lastAt, repliers = time.Time{}, nil
		case live && !reply.CreatedAt.Before(root.LastReplyAt):
			// The newest reply (the common case): its sender goes first.
			lastAt = reply.CreatedAt
			repliers = append([]string{reply.SenderID}, slices.DeleteFunc(slices.Clone(repliers), func(u string) bool { return u == reply.SenderID })...)
			repliers = repliers[:min(len(repliers), model.MaxLastRepliers)]
		case live != counted || (live && !slices.Contains(repliers, reply.SenderID) && len(repliers) < model.MaxLastRepliers):
			// An older reply appeared late, or a reply went away: read the newest ones.
			if lastAt, repliers, err = s.newest(ctx, roomID, rootID, replyID, live); err != nil {
				return err
			}
		}
		var ups []firestore.Update
		if count != root.ReplyCount {
			ups = append(ups, upd(fReplyCount, count, count == 0))
		}
		if !lastAt.Equal(root.LastReplyAt) {
			ups = append(ups, upd(fLastReplyAt, lastAt, lastAt.IsZero()))
		}
		if !slices.Equal(repliers, root.LastRepliers) {
			ups = append(ups, upd(fLastRepliers, repliers, len(repliers) == 0))
		}
		w.Update(rootSnap, ups)
		now := s.now()
		w.Put(markSnap, struct {
			Counted   bool      `firestore:"counted"`
			UpdatedAt time.Time `firestore:"updatedAt"`
		}{live, now})
		if live && !counted {
			w.Set(s.db.Collection(model.ThreadParticipantsPath(roomID, rootID)).Doc(reply.SenderID),
				Participant{UID: reply.SenderID, At: now})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync thread %s/%s with reply %s: %w", roomID, rootID, replyID, err)
	}
	return nil
}

// countable reports whether reply m of a thread counts: not deleted, of a type clients
// write, from a sender that can be a uid.
func countable(m model.Message) bool {
	return !m.Deleted() && m.Type.ClientWritable() && model.ValidateID("senderId", m.SenderID) == nil
}

func upd(path string, v any, del bool) firestore.Update {
	if del {
		return firestore.Update{Path: path, Value: firestore.Delete}
	}
	return firestore.Update{Path: path, Value: v}
}

// newest reads the thread's replies newest first and returns the newest live reply's
// createdAt and its newest distinct senders. The reply being synced is taken as live
// or not as the sync decided (the query may not show a change made meanwhile).
func (s *Store) newest(ctx context.Context, roomID, rootID, replyID string, replyLive bool) (time.Time, []string, error) {
	it := s.db.Collection(model.MessagesCollectionPath(roomID)).Where(fReplyTo, "==", rootID).
		OrderBy(fCreatedAt, firestore.Desc).Documents(ctx)
	defer it.Stop()
	var lastAt time.Time
	var repliers []string
	for len(repliers) < model.MaxLastRepliers {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return time.Time{}, nil, fmt.Errorf("list replies of %s/%s: %w", roomID, rootID, err)
		}
		var m model.Message
		if err := snap.DataTo(&m); err != nil {
			continue // not a reply this package counts
		}
		live := countable(m)
		if snap.Ref.ID == replyID {
			live = replyLive
		}
		if !live {
			continue
		}
		if lastAt.IsZero() {
			lastAt = m.CreatedAt
		}
		if !slices.Contains(repliers, m.SenderID) {
			repliers = append(repliers, m.SenderID)
		}
	}
	return lastAt, repliers, nil
}

// Participants returns the uids of everyone who replied in thread rootID of roomID
// (the root's sender is not among them unless they replied), for readers that hold
// only a client.
func Participants(ctx context.Context, db *firestore.Client, roomID, rootID string) ([]string, error) {
	snaps, err := db.Collection(model.ThreadParticipantsPath(roomID, rootID)).Select().Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list participants of thread %s/%s: %w", roomID, rootID, err)
	}
	out := make([]string, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, s.Ref.ID)
	}
	return out, nil
}
