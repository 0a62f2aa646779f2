package functions

import (
	"context"
	"fmt"
	"slices"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// onRoomWritten (rooms/{roomId}, written):
//   - created, deleted, or memberIds changed: the users who joined or left are reconciled
//     (inbox.Reconcile decides from the current room and member docs; a deleted room's
//     entries and memberships go away);
//   - title or photoURL changed: every member's inbox title follows;
//   - after joins and leaves, the large-room mode follows the size (decideMode); the
//     mode changing (large) switches every member doc and the read count (switchMode).
//
// Updates of only lastMessage, lastMessageAt and messageCount are this pipeline's own
// writes (one per message) and return at once.
//
// The event only says whom to look at: Reconcile and SyncTitle decide from the room and
// member docs as they are now, and the title goes to the room's current members, so a
// forged or stale event can at most make them recompute what is true.
func (p *Pipeline) onRoomWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.RoomPattern, ev)
	if err != nil {
		return err
	}
	roomID := ps["roomId"]
	changed := ev.ChangedFields()
	if len(changed) == 0 || only(changed, "lastMessage", "lastMessageAt", "messageCount", "archived") {
		return nil
	}
	if slices.Contains(changed, model.FieldLarge) {
		if err := p.switchMode(ctx, roomID); err != nil {
			return err
		}
		if only(changed, "lastMessage", "lastMessageAt", "messageCount", "archived", model.FieldLarge) {
			return nil
		}
	}
	var before, after model.Room
	if err := decodeChange(ev, "room", &before, &after); err != nil {
		return err
	}
	// No room has more members than MaxMembers: a longer list is not a real event, and
	// each uid in it would cost a reconcile.
	if len(before.MemberIDs) > model.MaxMembers || len(after.MemberIDs) > model.MaxMembers {
		return Permanent(fmt.Errorf("room %s event lists %d and %d members, over %d", roomID,
			len(before.MemberIDs), len(after.MemberIDs), model.MaxMembers))
	}
	var moved []string // joined or left
	for _, uid := range before.MemberIDs {
		if !slices.Contains(after.MemberIDs, uid) {
			moved = append(moved, uid)
		}
	}
	for _, uid := range after.MemberIDs {
		if !slices.Contains(before.MemberIDs, uid) {
			moved = append(moved, uid)
		}
	}
	if err := forEach(ctx, moved, p.cfg.FanoutConcurrency, func(ctx context.Context, uid string) error {
		return p.reconcile(ctx, uid, roomID)
	}); err != nil {
		return err
	}
	if len(moved) > 0 && ev.Value != nil {
		// The mode follows the size; a large room that kept its mode recounts its
		// readers (a leaver's membership is gone). One that just switched is recounted
		// by the switch (switchMode), after its members' memberships carry the keys
		// the count selects on.
		large, switched, err := p.decideMode(ctx, roomID)
		if err != nil {
			return err
		}
		if large && !switched {
			if err := p.countReads(ctx, roomID); err != nil {
				return err
			}
		}
	}
	if ev.Value == nil || !(slices.Contains(changed, "title") || slices.Contains(changed, "photoURL")) {
		return nil
	}
	// The title goes to the members the room has now (SyncTitle reads the title itself).
	room, ok, err := p.readRoom(ctx, roomID)
	if err != nil || !ok {
		return err
	}
	return forEach(ctx, room.MemberIDs, p.cfg.FanoutConcurrency, func(ctx context.Context, uid string) error {
		return p.inbox.SyncTitle(ctx, uid, roomID)
	})
}

// readRoom reads roomID as it is now: ok is false when the room does not exist, and an
// undecodable room is a Permanent error.
func (p *Pipeline) readRoom(ctx context.Context, roomID string) (room model.Room, ok bool, err error) {
	snap, err := p.db.Doc(model.RoomPath(roomID)).Get(ctx)
	if firestoreerr.IsNotFound(err) {
		return room, false, nil
	}
	if err != nil {
		return room, false, fmt.Errorf("read room %s: %w", roomID, err)
	}
	if err := snap.DataTo(&room); err != nil {
		return room, false, Permanent(fmt.Errorf("decode room %s: %w", roomID, err))
	}
	return room, true, nil
}
