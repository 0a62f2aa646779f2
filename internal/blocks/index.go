package blocks

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
	"github.com/hearth-chat/hearth/internal/page"
)

// DefaultIndexCap is how many blockers a blockers/{uid} index lists before it
// overflows: 2,000 uids of at most 128 bytes stay well under Firestore's 1 MiB
// document limit.
const DefaultIndexCap = 2000

// Index keeps blockers/{uid} (model.Blockers), the list of who blocks uid,
// from the block documents: the fan-outs of a message read their sender's
// index once instead of one block document per member. Create it with
// NewIndex.
type Index struct {
	db    *firestore.Client
	clock clock.Clock
	cap   int
}

// NewIndex returns an Index listing at most limit blockers per user
// (DefaultIndexCap when limit is 0 or less).
func NewIndex(db *firestore.Client, c clock.Clock, limit int) (*Index, error) {
	if db == nil || c == nil {
		return nil, errors.New("blocks: index needs a Firestore client and a clock")
	}
	if limit <= 0 {
		limit = DefaultIndexCap
	}
	return &Index{db: db, clock: c, cap: limit}, nil
}

// Sync brings blocked's index up to date with users/{blocker}/blocks/{blocked}
// as it is now: blocker is listed while the block document exists. It reads
// the document itself, not an event's copy, so duplicated and reordered
// events of it end in the same index. Every run writes the index (at least
// updatedAt), guarded by the update time it read: a run that read the block
// before another run's commit fails its guard and reads again rather than
// writing the older state after it. An overflowed index stays overflowed.
func (ix *Index) Sync(ctx context.Context, blocker, blocked string) error {
	if err := checkPair(blocker, blocked); err != nil {
		return fmt.Errorf("blockers index: %w", err)
	}
	idxRef := ix.db.Doc(model.BlockersPath(blocked))
	blockRef := ix.db.Doc(model.BlockPath(blocker, blocked))
	err := optimistic.Commit(ctx, ix.db, func(ctx context.Context, w *optimistic.Writes) error {
		// One BatchGetDocuments: both documents as of one read time.
		snaps, err := ix.db.GetAll(ctx, []*firestore.DocumentRef{idxRef, blockRef})
		if err != nil {
			return fmt.Errorf("read block and index: %w", err)
		}
		var idx model.Blockers
		if snaps[0].Exists() {
			if err := snaps[0].DataTo(&idx); err != nil {
				return fmt.Errorf("decode %s: %w", idxRef.Path, err)
			}
		}
		idx.By = apply(idx.By, blocker, snaps[1].Exists())
		if len(idx.By) > ix.cap {
			idx.Overflow = true
		}
		if idx.Overflow {
			idx.By = []string{}
		}
		idx.UpdatedAt = ix.clock.Now().UTC()
		w.Put(snaps[0], idx)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync blockers of %s (%s): %w", blocked, blocker, err)
	}
	return nil
}

// apply returns the sorted set by with uid in it or not.
func apply(by []string, uid string, in bool) []string {
	by = slices.Clone(by)
	slices.Sort(by)
	by = slices.Compact(by)
	i, found := slices.BinarySearch(by, uid)
	switch {
	case in && !found:
		by = slices.Insert(by, i, uid)
	case !in && found:
		by = slices.Delete(by, i, i+1)
	}
	if by == nil {
		by = []string{}
	}
	return by
}

// Backfill rebuilds the indexes from the block documents, for those written before
// the index was kept: it syncs the index of every block document there is (the
// collection group "blocks"), then every uid an index lists (a block lifted while
// no trigger kept the index), pageSize documents at a time, through Sync. It is
// safe to run while the trigger runs and to run again; it returns how many pairs
// it synced. progress, when not nil, is called after each page.
func (ix *Index) Backfill(ctx context.Context, pageSize int, progress func(synced int)) (int, error) {
	n := 0 // page.Each refuses a pageSize below 1
	report := func() {
		if progress != nil {
			progress(n)
		}
	}
	sync := func(blocker, blocked string) error {
		if checkPair(blocker, blocked) != nil {
			return nil // not a block the rules let anyone write
		}
		n++
		return ix.Sync(ctx, blocker, blocked)
	}
	// Every block document: users/{blocker}/blocks/{blocked}.
	blocks := ix.db.CollectionGroup(model.BlocksCollection).Query
	err := page.Each(ctx, blocks, pageSize, func(snaps []*firestore.DocumentSnapshot) error {
		for _, snap := range snaps {
			user := snap.Ref.Parent.Parent
			if user == nil || user.Parent == nil || user.Parent.ID != model.UsersCollection || user.Parent.Parent != nil {
				continue // a "blocks" collection elsewhere: not a block
			}
			if err := sync(user.ID, snap.Ref.ID); err != nil {
				return err
			}
		}
		report()
		return nil
	})
	if err != nil {
		return n, err
	}
	// Every index entry: blockers/{blocked}.by.
	indexes := ix.db.Collection(model.BlockersCollection).Query
	err = page.Each(ctx, indexes, pageSize, func(snaps []*firestore.DocumentSnapshot) error {
		for _, snap := range snaps {
			var idx model.Blockers
			if err := snap.DataTo(&idx); err != nil {
				return fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
			}
			for _, blocker := range idx.By {
				if err := sync(blocker, snap.Ref.ID); err != nil {
					return err
				}
			}
		}
		report()
		return nil
	})
	return n, err
}
