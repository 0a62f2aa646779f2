package functions

import (
	"context"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/roster"
)

// onMemberWritten (rooms/{roomId}/members/{uid}, written): a member doc appearing is a
// join, disappearing a leave, and banned turning true a leave too (the doc stays to keep
// the user out). inbox.Reconcile decides from the current room and member doc, not from
// the event, and creates or deletes the private membership and the inbox entry; a joined
// member's doc then gets their mirrored name, receipts and presence (roster.Sync).
//
// Changes of only the fields Hearth mirrors (roster.OwnedFields) or the role are ignored:
// they are this pipeline's own writes or do not affect the inbox.
func (p *Pipeline) onMemberWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.MemberPattern, ev)
	if err != nil {
		return err
	}
	changed := ev.ChangedFields()
	if len(changed) == 0 {
		return nil
	}
	if ev.Change() == firestoreevent.KindUpdated && only(changed, append([]string{"role"}, roster.OwnedFields...)...) {
		return nil
	}
	return p.reconcile(ctx, ps["uid"], ps["roomId"])
}

// reconcile settles uid's membership of roomID (inbox.Reconcile) and, when joined, the
// mirrored fields of their member doc.
func (p *Pipeline) reconcile(ctx context.Context, uid, roomID string) error {
	joined, err := p.inbox.Reconcile(ctx, uid, roomID)
	if err != nil || !joined {
		return err
	}
	return p.roster.Sync(ctx, uid, roomID)
}
