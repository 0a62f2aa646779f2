package admin

import (
	"context"
	"errors"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/page"
)

// listPage reads one page of q (page.Read); a cursor document that does not
// exist is badCursor.
func listPage[M, A any](ctx context.Context, q firestore.Query, cursor *firestore.DocumentRef, badCursor error,
	limit int, what string, conv func(id string, m M) A) ([]A, string, error) {
	out, next, err := page.Read(ctx, q, cursor, limit, what, conv)
	if errors.Is(err, page.ErrCursorGone) {
		return nil, "", badCursor
	}
	return out, next, err
}
