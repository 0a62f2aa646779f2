package push

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// ReasonUnconfirmedEvent labels hearth_push_suppressed_total for a message event that
// the message document does not confirm: it does not exist, or its sender, type or
// creation time differ from the event's.
const ReasonUnconfirmedEvent = "unconfirmed_event"

// HandleMessageCreated is the push part of the message trigger (functions'
// onMessageWritten), for a created message. The event only says which
// message to look at: the message document is read, and nothing happens when it does not
// exist, or when its sender, type or creation time (which never change once written)
// differ from the event's, or when it is deleted; otherwise NotifyMessage gets the
// stored message, so the push shows the text as stored, never as an event claims (a
// legitimate edit before the trigger runs is shown edited). Empty events (the emulator's
// delete of a missing document) and undecodable documents are ignored; a failed read
// asks for redelivery, which is safe.
func (n *Notifier) HandleMessageCreated(ctx context.Context, ev *firestoreevent.Event) error {
	if ev.Empty() || !ev.Exists() {
		return nil
	}
	params, ok := firestoreevent.Match(model.MessagePattern, ev.Document)
	if !ok {
		n.log.Warn("message event for another document", "document", ev.Document)
		return nil
	}
	var claimed model.Message
	if err := firestoreevent.DataTo(ev.Value, &claimed); err != nil {
		n.log.Warn("undecodable message", "document", ev.Document, "err", err)
		return nil
	}
	roomID, messageID := params["roomId"], params["messageId"]
	snap, err := n.db.Doc(model.MessagePath(roomID, messageID)).Get(ctx)
	if firestoreerr.IsNotFound(err) {
		n.m.suppressed.WithLabelValues(ReasonUnconfirmedEvent).Inc()
		n.log.Warn("message event for a message that does not exist", "room", roomID, "message", messageID, "event", ev.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read message %s in %s: %w", messageID, roomID, err)
	}
	var msg model.Message
	if err := snap.DataTo(&msg); err != nil {
		n.log.Warn("undecodable message", "document", snap.Ref.Path, "err", err)
		return nil
	}
	if why := unconfirmed(claimed, msg, ev, snap.CreateTime); why != "" {
		n.m.suppressed.WithLabelValues(ReasonUnconfirmedEvent).Inc()
		n.log.Warn("message event differs from the stored message", "room", roomID, "message", messageID, "event", ev.ID, "field", why)
		return nil
	}
	return n.NotifyMessage(ctx, roomID, messageID, msg)
}

// unconfirmed names the first field in which the event's message differs from the
// stored one, among those no write changes after creation; "" when they agree. The
// document's create time is compared too when the event carries one (a message deleted
// and written again under the same id is another message).
func unconfirmed(claimed, stored model.Message, ev *firestoreevent.Event, created time.Time) string {
	switch {
	case claimed.SenderID != stored.SenderID:
		return "senderId"
	case claimed.Type != stored.Type:
		return "type"
	case !claimed.CreatedAt.Equal(stored.CreatedAt):
		return "createdAt"
	case ev.Value.GetCreateTime() != nil && !created.IsZero() && !ev.Value.GetCreateTime().AsTime().Equal(created):
		return "createTime"
	}
	return ""
}

// HandleMembershipWritten is the push part of the membership trigger (functions'
// onMembershipWritten): when the recipient
// read the room past the pending digest, muted it, set it to "none" or left it (the
// membership was deleted), the pending digest is dropped.
func (n *Notifier) HandleMembershipWritten(ctx context.Context, ev *firestoreevent.Event) error {
	if ev.Empty() {
		return nil
	}
	params, ok := firestoreevent.Match(model.MembershipPattern, ev.Document)
	if !ok {
		n.log.Warn("membership event for another document", "document", ev.Document)
		return nil
	}
	uid, roomID := params["uid"], params["roomId"]
	if !ev.Exists() {
		return n.dropPending(ctx, uid, roomID, nil)
	}
	if ev.Existed() && !slices.ContainsFunc(ev.ChangedFields(), func(f string) bool {
		return f == "lastReadAt" || f == "notifications" || f == "mutedUntil"
	}) {
		return nil // the delivery pointer or nothing that matters moved
	}
	var m model.Membership
	if err := firestoreevent.DataTo(ev.Value, &m); err != nil {
		n.log.Warn("undecodable membership", "document", ev.Document, "err", err)
		return nil
	}
	return n.dropPending(ctx, uid, roomID, &m)
}

// urgent reports whether a message pushes at once rather than waiting for a digest
// window: in a direct room always; in a group a mention (or a reply in a thread the
// recipient takes part in); in a large group (model.Room.Large) only a mention by name
// (mentioned, within the sender's mention quota) and a reply to the recipient's own
// message (ownReply). Everything else in a large group goes into the digest, even the
// first message of a quiet spell (incoming.digest).
func urgent(room *model.Room, mention, mentioned, ownReply bool) bool {
	switch {
	case room.Type == model.RoomDirect:
		return true
	case room.Large:
		return mentioned || ownReply
	}
	return mention
}

// NotifyMessage notifies the members of roomID about a new message: everyone but the
// sender, except members who muted the room or set "none", "mentions"-only members not
// mentioned, members with the room open (online, activeRoomId, fresh heartbeat), and
// members who block the sender (users/{uid}/blocks/{senderId}). A message's mentions
// count only while its sender is within Config.MentionsPerMinute (mentionsAllowed). The
// message is queued for each recipient; what is due at once (the first message in a
// window, mentions, direct rooms; in a large room only mentions and replies to the
// recipient's own message, see urgent) is sent before NotifyMessage returns, the rest is
// left to the flusher. Calling it again for the same message sends nothing more.
func (n *Notifier) NotifyMessage(ctx context.Context, roomID, messageID string, msg model.Message) error {
	now := n.now()
	if reason := MessageSuppressed(msg); reason != "" {
		n.m.suppressed.WithLabelValues(reason).Inc()
		return nil
	}
	created := msg.CreatedAt.UTC()
	if created.IsZero() {
		created = now
	}
	if now.Sub(created) > n.cfg.MaxMessageAge {
		n.m.suppressed.WithLabelValues(ReasonStaleEvent).Inc()
		n.log.Info("message too old to push", "room", roomID, "message", messageID, "createdAt", created)
		return nil
	}
	room, err := n.roomOf(ctx, roomID)
	if err != nil {
		return err
	}
	if room == nil {
		n.log.Warn("message in a missing room", "room", roomID, "message", messageID)
		return nil
	}
	var uids []string
	for _, uid := range room.MemberIDs {
		if uid != msg.SenderID && uid != "" && !slices.Contains(uids, uid) {
			uids = append(uids, uid)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	ld := n.newLoader()
	ld.rooms[roomID] = room
	ld.messages[key(roomID, messageID)] = &msg
	if err := ld.recipients(ctx, roomID, uids); err != nil {
		return fmt.Errorf("notify message %s: %w", messageID, err)
	}
	type candidate struct {
		uid string
		in  incoming
	}
	mentions, err := n.mentionsAllowed(ctx, msg, messageID, now)
	if err != nil {
		return fmt.Errorf("notify message %s: %w", messageID, err)
	}
	var cands []candidate
	personal, owner, err := n.threadAudience(ctx, roomID, msg)
	if err != nil {
		return fmt.Errorf("notify message %s: %w", messageID, err)
	}
	for _, uid := range uids {
		named := mentions && slices.Contains(msg.Mentions, uid)
		mention := named || personal[uid]
		ms := ld.memberships[key(uid, roomID)]
		r := recipient{uid: uid, membership: ms, presence: ld.presence[uid]}
		reason := suppressed(now, roomID, room.Type, mention, r)
		if reason == "" && readPast(ms, created) {
			reason = ReasonRead
		}
		if reason != "" {
			n.m.suppressed.WithLabelValues(reason).Inc()
			n.log.Debug("push suppressed", "recipient", uid, "room", roomID, "message", messageID, "reason", reason)
			continue
		}
		cands = append(cands, candidate{uid, incoming{
			id:        messageID,
			createdAt: created,
			sender:    msg.SenderID,
			mention:   mention,
			urgent:    urgent(room, mention, named, owner == uid),
			digest:    room.Large,
		}})
	}
	// Blocks, then a reply's thread mutes, are read for the members still left (the
	// sender's index, their block documents when it overflowed; one mute document
	// each), never for those the rules above already silenced.
	drop := func(reason string, out func(uid string) bool) {
		cands = slices.DeleteFunc(cands, func(cd candidate) bool {
			if !out(cd.uid) {
				return false
			}
			n.m.suppressed.WithLabelValues(reason).Inc()
			n.log.Debug("push suppressed", "recipient", cd.uid, "room", roomID, "message", messageID, "reason", reason)
			return true
		})
	}
	left := func() []string {
		uids := make([]string, len(cands))
		for i, cd := range cands {
			uids[i] = cd.uid
		}
		return uids
	}
	if err := ld.blocksOf(ctx, map[string][]string{msg.SenderID: left()}); err != nil {
		return fmt.Errorf("notify message %s: %w", messageID, err)
	}
	drop(ReasonBlocked, func(uid string) bool { return ld.blocks(msg.SenderID, uid) })
	if personal != nil && len(cands) > 0 {
		muted, err := ld.threadMutes(ctx, roomID, msg.ReplyTo, left())
		if err != nil {
			return fmt.Errorf("notify message %s: %w", messageID, err)
		}
		drop(ReasonThreadMuted, func(uid string) bool { return muted[uid] })
	}

	claims, err := claimEach(cands, n.cfg.Concurrency, func(cd candidate) (*claim, error) {
		return n.enqueue(ctx, cd.uid, roomID, cd.in)
	})
	// Send what was claimed even if some recipients could not be queued: the redelivery
	// that the error asks for finds the others already handled.
	if err := errors.Join(err, n.deliver(ctx, claims, KindImmediate, ld)); err != nil {
		return fmt.Errorf("notify message %s in %s: %w", messageID, roomID, err)
	}
	return nil
}
