package functions

import (
	"context"
	"slices"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// onRoomWritten (rooms/{roomId}, written):
//   - created, deleted, or memberIds changed: the users who joined or left are reconciled
//     (inbox.Reconcile decides from the current room and member docs; a deleted room's
//     entries and memberships go away);
//   - title or photoURL changed: every member's inbox title follows.
//
// Updates of only lastMessage, lastMessageAt and messageCount are this pipeline's own
// writes (one per message) and return at once.
func (p *Pipeline) onRoomWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(roomPattern, ev)
	if err != nil {
		return err
	}
	roomID := ps["roomId"]
	changed := ev.ChangedFields()
	if len(changed) == 0 || only(changed, "lastMessage", "lastMessageAt", "messageCount", "archived") {
		return nil
	}
	var before, after model.Room
	if err := decodeChange(ev, "room", &before, &after); err != nil {
		return err
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
	if ev.Value == nil || !(slices.Contains(changed, "title") || slices.Contains(changed, "photoURL")) {
		return nil
	}
	return forEach(ctx, after.MemberIDs, p.cfg.FanoutConcurrency, func(ctx context.Context, uid string) error {
		return p.inbox.SyncTitle(ctx, uid, roomID)
	})
}
