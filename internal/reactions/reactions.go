// Package reactions keeps a message's reactionCounts exact: for every user who reacted
// (rooms/{roomId}/messages/{messageId}/reactions/{uid}, written by the client under the
// rules), the emoji counted are recorded in a backend-only marker
// (reactionMarks/{uid}); a sync compares the user's reaction document as it is now with
// the marker and applies the difference to the counts in the same commit as the new
// marker. The counts are therefore a function of the reaction documents, not of the
// events: a duplicated, late or reordered event finds the marker already equal to the
// document and changes nothing.
//
// Concurrency follows package inbox: every sync reads the marker and its sources (the
// reaction, the message) and commits the marker guarded by its update time, always
// writing it (at least updatedAt), so the last commit for a user read the sources after
// every earlier one; every source change is followed by a sync (the reaction's trigger,
// the message's deletion). The counts on the message are increments without a guard
// (they commute): a popular message takes many reactions at once.
//
// A reaction document is never trusted: only allowed, distinct emoji count, at most
// model.MaxReactionsPerUser per user (model.ReactionSet), and only on a live message
// (not deleted, not a system line). A deleted message loses its reactions: RemoveAll
// syncs every reacting user to nothing and deletes their reaction documents.
package reactions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
	"github.com/hearth-chat/hearth/internal/revocation"
)

// fReactionCounts is model.Message's reactionCounts tag; fEmoji, fUpdatedAt are the
// marker's.
const (
	fReactionCounts = "reactionCounts"
	fEmoji          = "emoji"
	fUpdatedAt      = "updatedAt"
)

// Store keeps reaction counts. Create it with New.
type Store struct {
	db    *firestore.Client
	clock clock.Clock
}

// New returns a Store writing with the admin client db, stamping markers with clk.
func New(db *firestore.Client, clk clock.Clock) (*Store, error) {
	if db == nil {
		return nil, errors.New("reactions: a Firestore client is required")
	}
	if clk == nil {
		clk = clock.System{}
	}
	return &Store{db: db, clock: clk}, nil
}

func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Change is what a Sync did to the counts of one user's reactions.
type Change struct {
	Added, Removed []string // emoji now counted, no longer counted
}

// Sync brings the counts of user uid's reactions on message messageID of roomID up to
// date with uid's reaction document. A message that is deleted or gone counts nothing:
// its reaction document is deleted too.
func (s *Store) Sync(ctx context.Context, roomID, messageID, uid string) (Change, error) {
	var ch Change
	msgRef := s.db.Doc(model.MessagePath(roomID, messageID))
	markRef := s.db.Doc(model.ReactionMarkPath(roomID, messageID, uid))
	reactRef := s.db.Doc(model.ReactionPath(roomID, messageID, uid))
	err := optimistic.Commit(ctx, s.db, func(ctx context.Context, w *optimistic.Writes) error {
		ch = Change{}
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{markRef, reactRef, msgRef})
		if err != nil {
			return fmt.Errorf("read reaction of %s: %w", uid, err)
		}
		markSnap, reactSnap, msgSnap := snaps[0], snaps[1], snaps[2]
		if !msgSnap.Exists() {
			// Gone for good: there are no counts left to keep exact and nothing can
			// react to it again (the rules need the message), so neither the reaction
			// nor its marker stays. Writing a marker here would bring one back after
			// the purge removed it, when a reaction event arrives late.
			if markSnap.Exists() {
				w.Delete(markSnap)
			}
			if reactSnap.Exists() {
				w.Delete(reactSnap)
			}
			return nil
		}
		live, err := liveMessage(msgSnap)
		if err != nil {
			return err
		}
		var want []string
		if live && reactSnap.Exists() {
			var r model.Reaction
			if err := reactSnap.DataTo(&r); err == nil {
				want = model.ReactionSet(r.Emoji)
			} // an undecodable document counts nothing
		}
		var have []string
		if markSnap.Exists() {
			var m model.ReactionMark
			if err := markSnap.DataTo(&m); err != nil {
				return fmt.Errorf("decode %s: %w", markRef.Path, err)
			}
			have = m.Emoji
		}
		var incs []firestore.Update
		for _, e := range want {
			if !slices.Contains(have, e) {
				ch.Added = append(ch.Added, e)
				incs = append(incs, countBy(e, 1))
			}
		}
		for _, e := range have {
			if !slices.Contains(want, e) {
				ch.Removed = append(ch.Removed, e)
				incs = append(incs, countBy(e, -1))
			}
		}
		w.Apply(msgRef, incs)
		if !markSnap.Exists() && !reactSnap.Exists() {
			// Nothing counted and nothing to count. The empty marker is still written
			// (a guard, see the package comment) unless uid was erased: its account
			// writes no reaction again, and a late event of the erasure's own deletions
			// must not bring back a document named after the uid.
			erased, err := s.erased(ctx, uid)
			if err != nil || erased {
				return err
			}
		}
		mark := model.ReactionMark{UID: uid, Emoji: want, UpdatedAt: s.now()}
		if mark.Emoji == nil {
			mark.Emoji = []string{}
		}
		// Always write the marker: a concurrent sync that read an older state must fail
		// its guard (package comment).
		w.Put(markSnap, mark)
		if !live && reactSnap.Exists() {
			w.Delete(reactSnap)
		}
		return nil
	})
	if err != nil {
		return Change{}, fmt.Errorf("sync reactions of %s on %s/%s: %w", uid, roomID, messageID, err)
	}
	if len(ch.Removed) > 0 {
		if err := s.pruneZeros(ctx, msgRef); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// erased reports whether uid's revocation marker says the account was erased.
func (s *Store) erased(ctx context.Context, uid string) (bool, error) {
	snap, err := s.db.Doc(revocation.Path(uid)).Get(ctx)
	if firestoreerr.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read revocation marker of %s: %w", uid, err)
	}
	reason, _ := snap.DataAt("reason")
	return reason == string(revocation.ReasonErase), nil
}

// Forget removes user uid's reactions from message messageID of roomID for an erasure:
// the emoji their marker counts are taken off reactionCounts, and the reaction document
// and the marker are deleted, in one commit guarded like Sync's (a sync in flight that
// read the marker before fails its guard and reads again; it then finds nothing and,
// the user erased, writes nothing). It reports whether there was anything to remove.
func (s *Store) Forget(ctx context.Context, roomID, messageID, uid string) (bool, error) {
	msgRef := s.db.Doc(model.MessagePath(roomID, messageID))
	markRef := s.db.Doc(model.ReactionMarkPath(roomID, messageID, uid))
	reactRef := s.db.Doc(model.ReactionPath(roomID, messageID, uid))
	var removed, found bool
	err := optimistic.Commit(ctx, s.db, func(ctx context.Context, w *optimistic.Writes) error {
		removed, found = false, false
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{markRef, reactRef, msgRef})
		if err != nil {
			return fmt.Errorf("read reaction of %s: %w", uid, err)
		}
		markSnap, reactSnap, msgSnap := snaps[0], snaps[1], snaps[2]
		if markSnap.Exists() {
			found = true
			var m model.ReactionMark
			if err := markSnap.DataTo(&m); err != nil {
				return fmt.Errorf("decode %s: %w", markRef.Path, err)
			}
			var decs []firestore.Update
			for _, e := range m.Emoji {
				decs = append(decs, countBy(e, -1))
			}
			if msgSnap.Exists() && len(decs) > 0 {
				removed = true
				w.Apply(msgRef, decs)
			}
			w.Delete(markSnap)
		}
		if reactSnap.Exists() {
			found = true
			w.Delete(reactSnap)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("forget reactions of %s on %s/%s: %w", uid, roomID, messageID, err)
	}
	if removed {
		if err := s.pruneZeros(ctx, msgRef); err != nil {
			return found, err
		}
	}
	return found, nil
}

// countBy is the update that moves emoji e's reactionCounts by d.
func countBy(e string, d int) firestore.Update {
	return firestore.Update{FieldPath: firestore.FieldPath{fReactionCounts, e}, Value: firestore.Increment(d)}
}

// liveMessage reports whether the message of snap, which exists, takes reactions: it is
// not a tombstone, and is of a type clients write.
func liveMessage(snap *firestore.DocumentSnapshot) (bool, error) {
	var m model.Message
	if err := snap.DataTo(&m); err != nil {
		return false, fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
	}
	return !m.Deleted() && m.Type.ClientWritable(), nil
}

// pruneZeros removes the emoji whose count fell to zero (or below, which the markers
// rule out) from the message's reactionCounts, and the map when it is empty. The
// commit is guarded by the message's update time, so a concurrent increment makes it
// read again.
func (s *Store) pruneZeros(ctx context.Context, msgRef *firestore.DocumentRef) error {
	err := optimistic.Commit(ctx, s.db, func(ctx context.Context, w *optimistic.Writes) error {
		snaps, err := s.db.GetAll(ctx, []*firestore.DocumentRef{msgRef})
		if err != nil {
			return err
		}
		snap := snaps[0]
		if !snap.Exists() {
			return nil
		}
		v, err := snap.DataAt(fReactionCounts)
		if err != nil {
			return nil // no counts
		}
		counts, _ := v.(map[string]any)
		var ups []firestore.Update
		live := 0
		for _, e := range slices.Sorted(maps.Keys(counts)) {
			if n, ok := counts[e].(int64); ok && n > 0 {
				live++
				continue
			}
			ups = append(ups, firestore.Update{FieldPath: firestore.FieldPath{fReactionCounts, e}, Value: firestore.Delete})
		}
		if live == 0 {
			ups = []firestore.Update{{Path: fReactionCounts, Value: firestore.Delete}}
		}
		if len(ups) > 0 {
			w.Update(snap, ups)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune reaction counts of %s: %w", msgRef.Path, err)
	}
	return nil
}

// RemoveAll removes the reactions of a message that was deleted (a tombstone) or is
// gone: every user with a reaction document or a marker is synced, which, the message
// no longer live, uncounts their emoji and deletes their reaction document. For a
// message that is gone the markers go too. A live message is left alone.
func (s *Store) RemoveAll(ctx context.Context, roomID, messageID string) error {
	msgRef := s.db.Doc(model.MessagePath(roomID, messageID))
	snap, err := msgRef.Get(ctx)
	exists := err == nil
	if err != nil && !firestoreerr.IsNotFound(err) {
		return fmt.Errorf("read message %s/%s: %w", roomID, messageID, err)
	}
	if exists {
		live, err := liveMessage(snap)
		if err != nil || live {
			return err
		}
	}
	uids := map[string]bool{}
	for _, coll := range []string{model.ReactionsCollection, model.ReactionMarksCollection} {
		it := msgRef.Collection(coll).Select().Documents(ctx)
		for {
			d, err := it.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				it.Stop()
				return fmt.Errorf("list %s of %s: %w", coll, msgRef.Path, err)
			}
			uids[d.Ref.ID] = true
		}
		it.Stop()
	}
	for _, uid := range slices.Sorted(maps.Keys(uids)) {
		// Sync uncounts a deleted message's reactions; for a message that is gone it
		// deletes the reaction and the marker too.
		if _, err := s.Sync(ctx, roomID, messageID, uid); err != nil {
			return err
		}
	}
	return nil
}
