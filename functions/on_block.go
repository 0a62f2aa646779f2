package functions

import (
	"context"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// onBlockWritten (users/{uid}/blocks/{otherUid}, written) keeps blockers/{otherUid},
// the backend-only index of who blocks otherUid that the message fan-outs read
// (blocks.Index.Sync). The handler reads the block document as it is now, not the
// event's copy, so duplicated and reordered events end in the same index.
func (p *Pipeline) onBlockWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.BlockPattern, ev)
	if err != nil {
		return err
	}
	uid, other := ps["uid"], ps["otherUid"]
	if model.ValidateID("uid", uid) != nil || model.ValidateID("otherUid", other) != nil || uid == other {
		return nil // not a block the rules let anyone write: nothing to index
	}
	return p.blockers.Sync(ctx, uid, other)
}
