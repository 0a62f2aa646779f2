package admin

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
)

// Firestore helpers shared by the resource files.

// listPage reads one page of q: the documents after cursor (none: from the
// start; a cursor document that does not exist is badCursor), at most limit
// of them decoded into M and converted by conv, and the id to pass as the
// next page's cursor when there are more. what names the list in errors.
func listPage[M, A any](ctx context.Context, q firestore.Query, cursor *firestore.DocumentRef, badCursor error,
	limit int, what string, conv func(id string, m M) A) ([]A, string, error) {
	if cursor != nil {
		snap, err := cursor.Get(ctx)
		if err != nil {
			if firestoreerr.IsNotFound(err) {
				return nil, "", badCursor
			}
			return nil, "", err
		}
		q = q.StartAfter(snap)
	}
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", what, err)
	}
	out := make([]A, 0, min(len(snaps), limit))
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
