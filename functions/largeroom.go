package functions

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
	"github.com/hearth-chat/hearth/internal/roster"
)

// Large-room mode (model.Room.Large): Hearth sets it while a room has at least
// Config.LargeRoomMembers members and clears it below. In that mode the rules refuse
// typing, the member docs carry no receipts, delivery or presence (roster.Sync), the
// room's "read by N" is kept in rooms/{roomId}/readCounts/last (roster.CountReads)
// instead, presence transitions are not fanned out to the room, and group pushes are
// digest-only (internal/push).

// decideMode sets roomID's large flag from its current size when it differs, and says
// whether it did (switched). The flag's own room event (onRoomWritten, "large" changed)
// then switches every member doc (switchMode), so a crash between the two is
// redelivered like any event.
func (p *Pipeline) decideMode(ctx context.Context, roomID string) (large, switched bool, err error) {
	ref := p.db.Doc(model.RoomPath(roomID))
	err = optimistic.Commit(ctx, p.db, func(ctx context.Context, w *optimistic.Writes) error {
		snap, err := ref.Get(ctx)
		if err != nil {
			if firestoreerr.IsNotFound(err) {
				large, switched = false, false
				return nil
			}
			return fmt.Errorf("read room %s: %w", roomID, err)
		}
		var room model.Room
		if err := snap.DataTo(&room); err != nil {
			return Permanent(fmt.Errorf("decode room %s: %w", roomID, err))
		}
		large = room.Type != model.RoomDirect && len(room.MemberIDs) >= p.cfg.LargeRoomMembers
		if switched = large != room.Large; switched {
			w.Update(snap, []firestore.Update{{Path: model.FieldLarge, Value: large}})
		}
		return nil
	})
	if err != nil {
		return false, false, fmt.Errorf("decide mode of room %s: %w", roomID, err)
	}
	return large, switched, nil
}

// switchMode carries roomID's mode into every member doc (roster.Sync: a switch to
// large removes the receipts, delivery and presence mirrors, one write per member; a
// switch back mirrors them again) and into the read count (counted when large,
// deleted otherwise).
func (p *Pipeline) switchMode(ctx context.Context, roomID string) error {
	room, ok, err := p.readRoom(ctx, roomID)
	if err != nil || !ok {
		return err
	}
	if err := forEach(ctx, room.MemberIDs, p.cfg.FanoutConcurrency, func(ctx context.Context, uid string) error {
		return p.roster.Sync(ctx, uid, roomID)
	}); err != nil {
		return err
	}
	return p.countReads(ctx, roomID)
}

// countReads recounts roomID's "read by N" (roster.CountReads), at most once per
// Config.LargeRoomWindow per room in this process: the calls that arrive meanwhile
// share the next run, which starts after they arrived and so counts what they caused.
func (p *Pipeline) countReads(ctx context.Context, roomID string) error {
	_, err := p.readCounts.Do(ctx, roomID, struct{}{}, func(ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, p.roster.CountReads(ctx, roomID)
	})
	return err
}

// countReadsIfLarge is countReads for a room in large-room mode; others cost one read
// of the mode.
func (p *Pipeline) countReadsIfLarge(ctx context.Context, roomID string) error {
	large, err := roster.Large(ctx, p.db, roomID)
	if err != nil || !large {
		return err
	}
	return p.countReads(ctx, roomID)
}
