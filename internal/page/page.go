// Package page reads Firestore queries one page at a time, with the id of
// the last document of a page as the cursor of the next: the lists of the
// API (rooms, history, audit log) page this way (Read), and work over a
// whole query (an erasure, a migration) walks it page by page (Each).
package page

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
)

// ErrCursorGone: the document a page cursor points at does not exist (it
// was deleted since, or the cursor was never one of this list's).
var ErrCursorGone = errors.New("the page cursor's document does not exist")

// Read reads one page of q: the documents after cursor (nil: from the
// start), at most limit of them decoded into M and converted by conv, and
// the id to pass as the next page's cursor when there are more. what names
// the list in errors.
func Read[M, T any](ctx context.Context, q firestore.Query, cursor *firestore.DocumentRef,
	limit int, what string, conv func(id string, m M) T) ([]T, string, error) {
	if cursor != nil {
		snap, err := cursor.Get(ctx)
		if err != nil {
			if firestoreerr.IsNotFound(err) {
				return nil, "", ErrCursorGone
			}
			return nil, "", fmt.Errorf("list %s: cursor: %w", what, err)
		}
		q = q.StartAfter(snap)
	}
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", what, err)
	}
	out := make([]T, 0, min(len(snaps), limit))
	for i, snap := range snaps {
		if i == limit {
			return out, snaps[i-1].Ref.ID, nil
		}
		var m M
		if err := snap.DataTo(&m); err != nil {
			return nil, "", fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
		}
		out = append(out, conv(snap.Ref.ID, m))
	}
	return out, "", nil
}

// Each walks every document of q in document-id order, size at a time: it calls fn
// with each page (never an empty one) until fn fails or the documents end. Each page
// starts after the last document of the previous one, so documents fn deletes or
// changes do not shift the walk. It is for work over a whole query (an erasure, a
// migration), not for a client's list (Read).
func Each(ctx context.Context, q firestore.Query, size int, fn func([]*firestore.DocumentSnapshot) error) error {
	if size < 1 {
		return fmt.Errorf("page size %d: must be positive", size)
	}
	q = q.OrderBy(firestore.DocumentID, firestore.Asc).Limit(size)
	var last *firestore.DocumentSnapshot
	for {
		page := q
		if last != nil {
			page = q.StartAfter(last)
		}
		snaps, err := page.Documents(ctx).GetAll()
		if err != nil {
			return fmt.Errorf("list documents: %w", err)
		}
		if len(snaps) == 0 {
			return nil
		}
		if err := fn(snaps); err != nil {
			return err
		}
		if len(snaps) < size {
			return nil
		}
		last = snaps[len(snaps)-1]
	}
}
