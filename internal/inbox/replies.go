package inbox

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// fReplyTo and fReplyPreview are the message fields of a reply (model.Message tags).
const (
	fReplyTo      = "replyTo"
	fReplyPreview = "replyPreview"
)

// replyConcurrency bounds the transactions SyncReplies runs at once for the replies to
// one message.
const replyConcurrency = 8

// SyncReplies keeps the quoted previews (model.ReplyPreview, the field replyPreview) of
// the replies around message messageID of roomID equal to their parent's current state.
// before and after are the message as an event carries it (zero values where it did not
// exist); they only say where to look, the previews are computed from the stored
// documents:
//   - a reply (replyTo set) gets its replyPreview from its parent;
//   - when the message was edited, deleted or purged, every reply to it is rewritten
//     (a deleted parent leaves {deleted: true} and no text in its replies' quotes).
//
// Each preview is written in a transaction that read the reply and the parent, so
// duplicated or reordered events leave the preview of the parent's latest state, and a
// preview that is already right is not written again. replyTo is only followed inside
// roomID, whatever it holds: a reply never quotes another room.
func (s *Store) SyncReplies(ctx context.Context, roomID, messageID string, before, after model.Message) error {
	if after.ReplyTo != "" {
		if err := s.syncReply(ctx, roomID, messageID); err != nil {
			return err
		}
	}
	if !parentChanged(before, after) {
		return nil
	}
	refs := s.db.Collection(model.MessagesCollectionPath(roomID)).Where(fReplyTo, "==", messageID).Select().Documents(ctx)
	defer refs.Stop()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(replyConcurrency)
	for {
		snap, err := refs.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			_ = g.Wait()
			return fmt.Errorf("list replies to %s/%s: %w", roomID, messageID, err)
		}
		id := snap.Ref.ID
		g.Go(func() error { return s.syncReply(gctx, roomID, id) })
	}
	return g.Wait()
}

// parentChanged reports whether a write changed what a quote of the message shows (or
// removed the message). A creation changes nothing: a reply cannot predate its parent.
// A message exists when it has a sender (every stored message has one).
func parentChanged(before, after model.Message) bool {
	existed, exists := before.SenderID != "", after.SenderID != ""
	switch {
	case !existed:
		return false
	case !exists:
		return true
	}
	return before.Text != after.Text || before.Deleted() != after.Deleted() || before.Type != after.Type
}

// syncReply sets the replyPreview of message replyID of roomID from its parent, in one
// transaction. A message that does not exist, is no reply, or whose replyTo is no valid
// id of another message is left alone.
func (s *Store) syncReply(ctx context.Context, roomID, replyID string) error {
	replyRef := s.db.Doc(model.MessagePath(roomID, replyID))
	err := s.db.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(replyRef)
		if firestoreerr.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var reply model.Message
		if err := snap.DataTo(&reply); err != nil {
			return fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
		}
		if reply.ReplyTo == "" || reply.ReplyTo == replyID || model.ValidateID(fReplyTo, reply.ReplyTo) != nil {
			return nil
		}
		want, err := s.quote(ctx, tx, roomID, reply.ReplyTo)
		if err != nil {
			return err
		}
		if reply.ReplyPreview != nil && *reply.ReplyPreview == want {
			return nil
		}
		return tx.Update(replyRef, []firestore.Update{{Path: fReplyPreview, Value: want}})
	})
	if err != nil {
		return fmt.Errorf("sync reply preview of %s/%s: %w", roomID, replyID, err)
	}
	return nil
}

// quote reads message parentID of roomID (and its sender's profile) in tx and returns
// its preview as a reply shows it.
func (s *Store) quote(ctx context.Context, tx *firestore.Transaction, roomID, parentID string) (model.ReplyPreview, error) {
	q := model.ReplyPreview{ID: parentID}
	snap, err := tx.Get(s.db.Doc(model.MessagePath(roomID, parentID)))
	if firestoreerr.IsNotFound(err) {
		q.Deleted = true
		return q, nil
	}
	if err != nil {
		return q, err
	}
	var parent model.Message
	if err := snap.DataTo(&parent); err != nil {
		return q, fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
	}
	q.SenderID, q.Type = parent.SenderID, parent.Type
	if parent.Deleted() {
		q.Deleted = true
		return q, nil
	}
	q.Text = model.PreviewOf(parent.Text)
	if model.ValidateID("senderId", parent.SenderID) != nil {
		return q, nil
	}
	user, err := tx.Get(s.db.Doc(model.UserPath(parent.SenderID)))
	switch {
	case firestoreerr.IsNotFound(err):
		return q, nil // no profile: no name
	case err != nil:
		return q, err
	}
	q.SenderName = nameOf(user)
	return q, nil
}
