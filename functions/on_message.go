package functions

import (
	"context"
	"fmt"
	"slices"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// onMessageWritten (rooms/{roomId}/messages/{messageId}, written) is the one trigger of
// a message: every write is delivered once, and dispatched in process to
//   - the inbox (messageInbox): the room's lastMessage and counts, every member's entry;
//   - push (Deps.Notifier), for a created message: who is notified, what is sent at once;
//   - media (Deps.Media): a created message gets the result of an upload check that
//     finished first; a message that stopped carrying its upload (deleted, redacted)
//     has it removed.
//
// The parts run side by side; a part that fails asks for a redelivery of the event,
// which every part handles idempotently (see dispatch).
func (p *Pipeline) onMessageWritten(ctx context.Context, ev *firestoreevent.Event) error {
	if _, err := params(model.MessagePattern, ev); err != nil {
		return err
	}
	created := ev.Change() == firestoreevent.KindCreated
	parts := []part{{"inbox", p.messageInbox}}
	if p.notifier != nil && created {
		parts = append(parts, part{"push", p.notifier.HandleMessageCreated})
	}
	if p.media != nil {
		if created {
			parts = append(parts, part{"media", p.media.HandleMessageEvent})
		} else {
			parts = append(parts, part{"media removal", p.media.HandleMessageWritten})
		}
	}
	parts = append(parts, p.threadParts(ev)...)
	return p.dispatch(ctx, ev, parts...)
}

// messageInbox is the inbox part of onMessageWritten: the room's
// lastMessage, lastMessageAt and messageCount, then every member's inbox entry — the
// preview when this is the room's newest message, unreadCount for the other members when
// the message appeared or disappeared (created, soft- or hard-deleted), mentionCount for
// the members it mentions (or mentioned) — and their badge totals.
//
// The event only says which documents to look at: the room and the message's part of
// every entry are recomputed from the current data (inbox.ApplyMessage, inbox.FanOut),
// so a duplicate event or events in reverse order leave the same result, and a forged one (a message
// that does not exist, other text, other mentions) at most makes the members it names
// recount what is true. The fan-out goes to the room's current members only. Edits fan
// out through onEdit.
func (p *Pipeline) messageInbox(ctx context.Context, ev *firestoreevent.Event) error {
	ps, err := params(model.MessagePattern, ev)
	if err != nil {
		return err
	}
	roomID, messageID := ps["roomId"], ps["messageId"]
	changed := ev.ChangedFields()
	if len(changed) == 0 {
		return nil // a no-op rewrite
	}
	if ev.Change() == firestoreevent.KindUpdated && only(changed, append([]string{"media", "replyPreview"}, derivedFields...)...) {
		return nil // media status and thumbnail, a reply's quote, reactions, threads: nothing the inbox shows
	}
	var before, after model.Message
	if err := decodeChange(ev, "message", &before, &after); err != nil {
		return err
	}

	if err := p.inbox.SyncReplies(ctx, roomID, messageID, before, after); err != nil {
		return err
	}

	sender := after.SenderID
	if sender == "" {
		sender = before.SenderID
	}
	if ev.Change() == firestoreevent.KindUpdated && only(changed, "text", "editedAt") {
		return p.onEdit(ctx, roomID, messageID, sender)
	}
	room, err := p.inbox.ApplyMessage(ctx, roomID, messageID, sender)
	if err != nil {
		return err
	}
	if !room.Exists {
		return nil // a late event for a deleted room
	}

	// Counts change when the message appears or disappears; mentions when it is created,
	// deleted, or its mentions change (a tombstone drops them).
	appeared := ev.Change() != firestoreevent.KindUpdated || slices.Contains(changed, "deletedAt")
	mentioned := map[string]bool{}
	if appeared || slices.Contains(changed, "mentions") {
		for _, uid := range append(slices.Clone(before.Mentions), after.Mentions...) {
			mentioned[uid] = true
		}
	}
	// Every member's preview may change when this is (or, hard-deleted, was) the room's
	// newest message. Otherwise only the members whose counts it affects are looked at.
	previewed := ev.Change() == firestoreevent.KindDeleted ||
		room.LastMessage != nil && room.LastMessage.ID == messageID
	var targets []string
	for _, uid := range room.MemberIDs {
		if previewed || (uid != sender && (appeared || mentioned[uid])) {
			targets = append(targets, uid)
		}
	}
	// The targets' counts change by the message's part only (its tally says whom it is
	// counted for), with their previews, in guarded commits of many entries at once.
	if err := p.inbox.FanOut(ctx, roomID, messageID, sender, targets); err != nil {
		return err
	}
	if room.Large && previewed {
		// A new last message: its "read by N" is counted after the room names it, so
		// a reader whose pointer passed it before that is counted too.
		return p.countReads(ctx, roomID)
	}
	return nil
}

// onEdit handles an edit (only text and editedAt changed): the room's lastMessage and,
// when the message is the room's last, every member's preview follow. An edit changes
// no count, and a sender may repeat it (the rules allow one per message per
// model.EditInterval, any number of messages at once), so the edits of one room are
// coalesced with Config.FanoutWindow: the first edit of a burst fans out at once, every
// edit that arrives within the window of the last fan-out joins the next one, which
// starts when the window ends and re-reads every message of the batch. Each member's
// entry is rewritten for a room's edits at most once per window, plus one.
func (p *Pipeline) onEdit(ctx context.Context, roomID, messageID, sender string) error {
	_, err := p.edits.Do(ctx, roomID, map[string]string{messageID: sender},
		func(ctx context.Context, batch map[string]string) (struct{}, error) {
			return struct{}{}, p.applyEdits(ctx, roomID, batch)
		})
	return err
}

// applyEdits applies a batch of edited messages (id -> sender) to the room, then
// refreshes every member's entry if one of them is the room's last message.
func (p *Pipeline) applyEdits(ctx context.Context, roomID string, batch map[string]string) error {
	room, err := p.inbox.ApplyMessages(ctx, roomID, batch)
	if err != nil {
		return fmt.Errorf("apply %d edits to room %s: %w", len(batch), roomID, err)
	}
	if !room.Exists || room.LastMessage == nil {
		return nil
	}
	if _, edited := batch[room.LastMessage.ID]; !edited {
		return nil // an older message: nothing the inbox shows
	}
	return forEach(ctx, room.MemberIDs, p.cfg.FanoutConcurrency, func(ctx context.Context, uid string) error {
		return p.inbox.Refresh(ctx, uid, roomID, false)
	})
}
