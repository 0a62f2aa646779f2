package roster

import (
	"context"
	"fmt"

	"github.com/hearth-chat/hearth/internal/aggregate"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// CountReads brings roomID's "read by N" (model.ReadCount, rooms/{roomId}/readCounts/last)
// up to date: in a large room with a last message, the number of memberships of the room
// that publish read receipts (model.Membership.ReadReceipts) and whose lastReadAt is at
// or past the message's sentAt, the sender's own left out — one COUNT aggregation over
// the memberships collection group (index: roomId, readReceipts, lastReadAt) and one
// read of the sender's membership. In a room that is not large, or has no last
// message, the count is deleted.
//
// Exact under duplicated and reordered events: the count document is read first and
// guards the write, the room and the memberships are read after it. Every cause of a
// change (a read pointer moving, a new last message, a receipts switch, a leave) runs a
// CountReads that starts after the change is committed; if a run that started earlier
// commits a stale count after such a run read the document, the later run's commit
// fails and it counts again. A count equal to the stored one is not written.
func (m *Mirror) CountReads(ctx context.Context, roomID string) error {
	ref := m.db.Doc(model.ReadCountPath(roomID))
	err := optimistic.Commit(ctx, m.db, func(ctx context.Context, w *optimistic.Writes) error {
		snap, err := ref.Get(ctx)
		if err != nil && !firestoreerr.IsNotFound(err) {
			return fmt.Errorf("read %s: %w", ref.Path, err)
		}
		var have model.ReadCount
		if snap.Exists() {
			if err := snap.DataTo(&have); err != nil {
				return fmt.Errorf("decode %s: %w", ref.Path, err)
			}
		}
		room, err := roomFields(ctx, m.db, roomID, model.FieldLarge, model.FieldLastMessage)
		if err != nil {
			return fmt.Errorf("read room %s: %w", roomID, err)
		}
		lm := room.LastMessage
		if !room.Large || lm == nil || lm.SentAt.IsZero() {
			if snap.Exists() {
				w.Delete(snap)
			}
			return nil
		}
		n, err := m.readers(ctx, roomID, lm)
		if err != nil {
			return err
		}
		if snap.Exists() && have.MessageID == lm.ID && have.SentAt.Equal(lm.SentAt) && have.Count == n {
			return nil
		}
		w.Put(snap, model.ReadCount{MessageID: lm.ID, SentAt: lm.SentAt.UTC(), Count: n, UpdatedAt: m.clock.Now().UTC()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("count reads in %s: %w", roomID, err)
	}
	return nil
}

// readers counts the members of roomID other than lm's sender who publish read receipts
// and have read lm.
func (m *Mirror) readers(ctx context.Context, roomID string, lm *model.LastMessage) (int, error) {
	q := m.db.CollectionGroup(model.MembershipsCollection).
		Where(FieldRoomID, "==", roomID).
		Where(FieldReadReceipts, "==", true).
		Where("lastReadAt", ">=", lm.SentAt.UTC())
	res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("count readers of %s in %s: %w", lm.ID, roomID, err)
	}
	n := int(aggregate.Int(res, "n"))
	if model.ValidateID("senderId", lm.SenderID) != nil { // none, or not an id
		return n, nil
	}
	snap, err := m.db.Doc(model.MembershipPath(lm.SenderID, roomID)).Get(ctx)
	if firestoreerr.IsNotFound(err) {
		return n, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read membership %s/%s: %w", lm.SenderID, roomID, err)
	}
	var ms model.Membership
	if err := snap.DataTo(&ms); err != nil {
		return 0, fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
	}
	if ms.RoomID == roomID && ms.ReadReceipts && !ms.LastReadAt.Before(lm.SentAt) {
		n--
	}
	return max(n, 0), nil
}
