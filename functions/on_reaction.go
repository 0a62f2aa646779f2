package functions

import (
	"cmp"
	"context"
	"slices"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// ReactionNotifier is the push side of the reaction trigger: *push.Notifier implements
// it. A Deps.Notifier that does not sends no reaction pushes.
type ReactionNotifier interface {
	// HandleReactionWritten notifies the author of a message about the reactions of
	// rooms/{roomId}/messages/{messageId}/reactions/{uid} as stored now. It is
	// idempotent (each reactor, emoji and message is queued once).
	HandleReactionWritten(ctx context.Context, ev *firestoreevent.Event) error
}

// derivedFields are the message fields Hearth derives from reactions and replies: a
// write of only these is Hearth's own and changes nothing the inbox shows.
var derivedFields = []string{"reactionCounts", "replyCount", "lastReplyAt", "lastRepliers"}

// onReactionWritten (rooms/{roomId}/messages/{messageId}/reactions/{uid}, written) is the
// one trigger of a reaction document, dispatched to
//   - the counts (reactions.Store.Sync): the message's reactionCounts follow the user's
//     document as it is now, exact under duplicated and reordered events;
//   - push (ReactionNotifier), when the document exists: the message's author hears of
//     the reactions.
func (p *Pipeline) onReactionWritten(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.ReactionPattern, ev)
	if err != nil {
		return err
	}
	roomID, messageID, uid := ps["roomId"], ps["messageId"], ps["uid"]
	parts := []part{{"reactions", func(ctx context.Context, _ *firestoreevent.Event) error {
		_, err := p.reacts.Sync(ctx, roomID, messageID, uid)
		return err
	}}}
	if rn, ok := p.notifier.(ReactionNotifier); ok && ev.Exists() {
		parts = append(parts, part{"push", rn.HandleReactionWritten})
	}
	return p.dispatch(ctx, ev, parts...)
}

// threadParts are the parts of onMessageWritten for reactions and threads: a reply that
// appeared or went away (created, soft- or hard-deleted) updates its thread's summary on
// the root; a message that was deleted loses its reactions.
func (p *Pipeline) threadParts(ev *firestoreevent.Event) []part {
	ps, err := params(model.MessagePattern, ev)
	if err != nil {
		return nil
	}
	roomID, messageID := ps["roomId"], ps["messageId"]
	changed := ev.ChangedFields()
	appeared := ev.Change() != firestoreevent.KindUpdated || slices.Contains(changed, "deletedAt")
	if !appeared {
		return nil
	}
	var before, after model.Message
	if decodeChange(ev, "message", &before, &after) != nil {
		return nil // the inbox part reports it
	}
	var parts []part
	if root := cmp.Or(after.ReplyTo, before.ReplyTo); root != "" {
		parts = append(parts, part{"threads", func(ctx context.Context, _ *firestoreevent.Event) error {
			return p.threads.Sync(ctx, roomID, root, messageID)
		}})
	}
	if ev.Change() == firestoreevent.KindDeleted || after.Deleted() {
		parts = append(parts, part{"reactions", func(ctx context.Context, _ *firestoreevent.Event) error {
			return p.reacts.RemoveAll(ctx, roomID, messageID)
		}})
	}
	return parts
}
