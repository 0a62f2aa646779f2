package inbox

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/aggregate"
	"github.com/hearth-chat/hearth/internal/model"
)

// Totals is a user's badge: the sums of unreadCount and mentionCount over their inbox
// entries (users/{uid}/inbox). It is derived, not stored: no document holds it, so a
// message costs each member one write (the entry) and no shared per-user document
// serialises the fan-outs of several rooms (see docs/data-model.md, "The badge").
type Totals struct {
	Unread   int
	Mentions int
}

// Badge returns uid's badge totals with one aggregation query over their inbox entries
// (two sums in one query: Firestore bills one read per 1,000 index entries it scans, so
// one read for any inbox below that size). The caller bounds it with ctx.
func Badge(ctx context.Context, db *firestore.Client, uid string) (Totals, error) {
	res, err := db.Collection(model.InboxCollectionPath(uid)).NewAggregationQuery().
		WithSum(fUnreadCount, "unread").
		WithSum(fMentionCount, "mentions").
		Get(ctx)
	if err != nil {
		return Totals{}, fmt.Errorf("sum the inbox of %s: %w", uid, err)
	}
	return Totals{Unread: int(aggregate.Int(res, "unread")), Mentions: int(aggregate.Int(res, "mentions"))}, nil
}
