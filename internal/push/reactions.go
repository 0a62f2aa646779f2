package push

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/threads"
)

// Reasons of reaction and thread pushes not sent (hearth_push_suppressed_total).
const (
	ReasonOwnReaction = "own_reaction" // a reaction to one's own message
	ReasonThreadMuted = "thread_muted" // a reply in a thread the recipient muted
)

// reactionSep joins a reaction's parts in its queue id: no message id or uid holds it.
const reactionSep = "~"

// reactionQueueID is the id a reaction takes in the author's push queue entry, beside
// message ids: "{messageId}~{reactorUid}~{emoji}". A reaction already handled (the same
// reactor, emoji and message) is a duplicate, like a message id already seen.
func reactionQueueID(messageID, reactor, emoji string) string {
	return messageID + reactionSep + reactor + reactionSep + emoji
}

// queuedReaction is a reaction id of the push queue taken apart.
type queuedReaction struct{ messageID, reactor, emoji string }

// parseQueued returns the reaction of a queue id, ok false for a message id.
func parseQueued(id string) (queuedReaction, bool) {
	parts := strings.SplitN(id, reactionSep, 3)
	if len(parts) != 3 {
		return queuedReaction{}, false
	}
	return queuedReaction{parts[0], parts[1], parts[2]}, true
}

// messageOf returns the message a queue id shows: the reacted message of a reaction.
func messageOf(id string) string {
	if r, ok := parseQueued(id); ok {
		return r.messageID
	}
	return id
}

// HandleReactionWritten is the push part of the reaction trigger (functions'
// onReactionWritten): it notifies the author of the message about the reactions the
// document holds now (NotifyReaction). Deleted documents notify nobody.
func (n *Notifier) HandleReactionWritten(ctx context.Context, ev *firestoreevent.Event) error {
	if ev.Empty() || !ev.Exists() {
		return nil
	}
	ps, ok := firestoreevent.Match(model.ReactionPattern, ev.Document)
	if !ok {
		n.log.Warn("reaction event for another document", "document", ev.Document)
		return nil
	}
	return n.NotifyReaction(ctx, ps["roomId"], ps["messageId"], ps["uid"])
}

// NotifyReaction tells the author of message messageID of roomID that reactor reacted,
// from the documents as stored (the event only says where to look): one queued item per
// allowed emoji of the reaction (model.ReactionSet), each queued once per reactor and
// message (a toggled emoji is not announced twice while the entry remembers it). It
// follows the rules of a message push (mute, "none", the room open) with one difference:
// a reaction is not a mention, so a group set to "mentions" gets none. Nobody is told of
// their own reaction, of one to a deleted or system message, or of one by a reactor who
// is no longer a member. Reactions wait for the digest window like any group message
// (in a large room, like its messages, even the first of a quiet spell).
func (n *Notifier) NotifyReaction(ctx context.Context, roomID, messageID, reactor string) error {
	snaps, err := n.db.GetAll(ctx, []*firestore.DocumentRef{
		n.db.Doc(model.ReactionPath(roomID, messageID, reactor)),
		n.db.Doc(model.MessagePath(roomID, messageID)),
	})
	if err != nil {
		return fmt.Errorf("read reaction of %s on %s/%s: %w", reactor, roomID, messageID, err)
	}
	if !snaps[0].Exists() || !snaps[1].Exists() {
		return nil
	}
	var r model.Reaction
	var msg model.Message
	if snaps[0].DataTo(&r) != nil || snaps[1].DataTo(&msg) != nil {
		n.log.Warn("undecodable reaction or message", "room", roomID, "message", messageID, "reactor", reactor)
		return nil
	}
	emoji := model.ReactionSet(r.Emoji)
	if reason := MessageSuppressed(msg); reason != "" || len(emoji) == 0 {
		return nil
	}
	author := msg.SenderID
	if author == reactor {
		n.m.suppressed.WithLabelValues(ReasonOwnReaction).Inc()
		return nil
	}
	now := n.now()
	at := r.UpdatedAt.UTC()
	if at.IsZero() {
		at = now
	}
	if now.Sub(at) > n.cfg.MaxMessageAge {
		n.m.suppressed.WithLabelValues(ReasonStaleEvent).Inc()
		return nil
	}
	room, err := n.roomOf(ctx, roomID)
	if err != nil || room == nil {
		return err
	}
	if !slices.Contains(room.MemberIDs, author) || !slices.Contains(room.MemberIDs, reactor) {
		n.m.suppressed.WithLabelValues(ReasonNotMember).Inc()
		return nil
	}
	ld := n.newLoader()
	ld.rooms[roomID] = room
	ld.messages[key(roomID, messageID)] = &msg
	if err := ld.recipients(ctx, roomID, []string{author}); err != nil {
		return fmt.Errorf("notify reaction on %s: %w", messageID, err)
	}
	ms := ld.memberships[key(author, roomID)]
	reason := suppressed(now, roomID, room.Type, false, recipient{uid: author, membership: ms, presence: ld.presence[author]})
	if reason == "" && readPast(ms, at) {
		reason = ReasonRead
	}
	if reason != "" {
		n.m.suppressed.WithLabelValues(reason).Inc()
		return nil
	}
	var claims []*claim
	var errs []error
	for _, e := range emoji {
		c, err := n.enqueue(ctx, author, roomID, incoming{id: reactionQueueID(messageID, reactor, e), createdAt: at, sender: reactor, digest: room.Large})
		errs = append(errs, err)
		if c != nil {
			claims = append(claims, c)
		}
	}
	if err := errors.Join(errors.Join(errs...), n.deliver(ctx, claims, KindImmediate, ld)); err != nil {
		return fmt.Errorf("notify reaction on %s in %s: %w", messageID, roomID, err)
	}
	return nil
}

// threadAudience returns, for a reply (msg.ReplyTo set), who takes part in its thread:
// the root's sender and everyone who replied (the reply is personal to them, like a
// mention). personal is nil for a message that is no reply. owner is the root's sender
// ("" when unknown): the reply answers their own message. One query for the
// participants and one read of the root; the thread's mutes are read later, for the
// recipients the room's rules leave (loader.threadMutes).
func (n *Notifier) threadAudience(ctx context.Context, roomID string, msg model.Message) (personal map[string]bool, owner string, err error) {
	root := msg.ReplyTo
	if root == "" || model.ValidateID("replyTo", root) != nil {
		return nil, "", nil
	}
	participants, err := threads.Participants(ctx, n.db, roomID, root)
	if err != nil {
		return nil, "", err
	}
	personal = map[string]bool{}
	for _, uid := range participants {
		personal[uid] = true
	}
	snaps, err := n.db.GetAll(ctx, []*firestore.DocumentRef{n.db.Doc(model.MessagePath(roomID, root))})
	if err != nil {
		return nil, "", fmt.Errorf("read thread root %s/%s: %w", roomID, root, err)
	}
	if snaps[0].Exists() {
		if v, err := snaps[0].DataAt("senderId"); err == nil {
			if s, ok := v.(string); ok {
				personal[s] = true
				owner = s
			}
		}
	}
	return personal, owner, nil
}

// threadMutes returns which of uids muted the thread of root in roomID
// (users/{uid}/threadMutes/{roomId}_{rootId}: no push for its replies at all): one read
// per recipient, batched.
func (l *loader) threadMutes(ctx context.Context, roomID, root string, uids []string) (map[string]bool, error) {
	muted := map[string]bool{}
	var w want
	for _, uid := range uids {
		w.add(l.n.db, model.ThreadMutePath(uid, roomID, root), false, func(snap *firestore.DocumentSnapshot) error {
			if snap.Exists() {
				muted[uid] = true // called with l.mu held
			}
			return nil
		})
	}
	if err := l.fetch(ctx, &w); err != nil {
		return nil, fmt.Errorf("read thread mutes of %s/%s: %w", roomID, root, err)
	}
	return muted, nil
}
