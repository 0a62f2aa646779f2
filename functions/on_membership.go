package functions

import (
	"context"
	"slices"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/roster"
)

// onMembershipWritten (users/{uid}/memberships/{roomId}, written) is the one trigger of
// a membership: the owner moved a pointer or changed a setting of their private
// membership. Each write is delivered once and dispatched in process to the inbox and
// roster (membershipInbox) and to push (Deps.Notifier: a pending digest is dropped when
// the room was read past it, muted, set to "none" or left). For the inbox:
//   - lastReadAt / lastReadMessageId moved: unreadCount and mentionCount are recounted
//     from the tallies (aggregation queries; the badge, their sum, follows), and the
//     receipt is mirrored to the member doc — only while the user's settings.readReceipts
//     is on;
//   - lastDeliveredAt moved: mirrored to the member doc as deliveredAt;
//   - mutedUntil changed: the entry's muted flag follows;
//   - in a large room (model.Room.Large) the member doc gets no receipts or delivery
//     pointer; instead a moved read pointer, or a change of the Hearth-owned roomId /
//     readReceipts, recounts the room's "read by N" (countReads).
//
// Creation and deletion are the join and leave (onMemberWritten did the work for the
// inbox); a change of notifications only concerns push. Which fields moved is the event's word, but what
// is written is not: Refresh and Sync read the membership, room and tallies as they are
// now, so a forged or stale event can at most make them recompute what is true.
func (p *Pipeline) onMembershipWritten(ctx context.Context, ev *firestoreevent.Event) error {
	if _, err := params(model.MembershipPattern, ev); err != nil {
		return err
	}
	parts := []part{{"inbox", p.membershipInbox}}
	if p.notifier != nil {
		parts = append(parts, part{"push", p.notifier.HandleMembershipWritten})
	}
	return p.dispatch(ctx, ev, parts...)
}

// membershipInbox is the inbox and roster part of onMembershipWritten.
func (p *Pipeline) membershipInbox(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.MembershipPattern, ev)
	if err != nil {
		return err
	}
	if ev.Change() != firestoreevent.KindUpdated {
		return nil
	}
	uid, roomID := ps["uid"], ps["roomId"]
	changed := ev.ChangedFields()
	read := slices.Contains(changed, "lastReadAt") || slices.Contains(changed, "lastReadMessageId")
	if read || slices.Contains(changed, "mutedUntil") {
		if err := p.inbox.Refresh(ctx, uid, roomID, read); err != nil {
			return err
		}
	}
	// A large room's "read by N" counts the memberships by these fields.
	counted := read || slices.Contains(changed, roster.FieldReadReceipts) || slices.Contains(changed, roster.FieldRoomID)
	if read || slices.Contains(changed, "lastDeliveredAt") {
		// The sync reads the room's mode: the recount needs no read of its own.
		large, err := p.roster.SyncMode(ctx, uid, roomID)
		if err != nil || !counted || !large {
			return err
		}
		return p.countReads(ctx, roomID)
	}
	if counted {
		return p.countReadsIfLarge(ctx, roomID)
	}
	return nil
}
