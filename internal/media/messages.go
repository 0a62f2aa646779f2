package media

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// applyToMessages copies an upload's final result into every message of its room
// whose media.path names the object (normally one; a client retrying offline writes
// the same message id again). Messages written later get it from HandleMessageEvent.
func (p *Processor) applyToMessages(ctx context.Context, rec Upload) error {
	if rec.Status == model.MediaPending {
		return nil
	}
	iter := p.fs.Collection(model.MessagesCollectionPath(rec.RoomID)).
		Where("media.path", "==", rec.ObjectPath).Documents(ctx)
	snaps, err := iter.GetAll()
	if err != nil {
		return fmt.Errorf("find messages of %s: %w", rec.ObjectPath, err)
	}
	var errs []error
	for _, s := range snaps {
		if err := p.applyToMessage(ctx, s.Ref, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// applyToMessage sets one message's media status (and size, thumbnail) from rec, in a
// transaction so that a concurrent edit or delete by the sender is never undone: a
// deleted message, one whose media was replaced, or one sent by someone else than the
// uploader is left alone, and nothing is written when nothing changes (so the
// message triggers do not fire for nothing). The transaction also reads the upload
// record: a result superseded meanwhile (the expiry sweep's "never uploaded" overtaken
// by a late upload's event, which already updated the message) is not written back.
func (p *Processor) applyToMessage(ctx context.Context, ref *firestore.DocumentRef, rec Upload) error {
	obj, err := model.ParseObjectPath(rec.ObjectPath)
	if err != nil {
		return fmt.Errorf("update message %s: %w", ref.Path, err)
	}
	recRef := p.fs.Doc(UploadPath(obj.ID))
	err = p.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snaps, err := tx.GetAll([]*firestore.DocumentRef{ref, recRef})
		if err != nil {
			return err
		}
		if !snaps[0].Exists() || !snaps[1].Exists() {
			return nil
		}
		var cur Upload
		if err := snaps[1].DataTo(&cur); err != nil {
			return fmt.Errorf("decode %s: %w", recRef.Path, err)
		}
		if cur.Status != rec.Status || cur.Generation != rec.Generation {
			return nil // superseded: whoever recorded the newer result applies it
		}
		var m model.Message
		if err := snaps[0].DataTo(&m); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if m.Deleted() || m.Media == nil || m.Media.Path != rec.ObjectPath || m.SenderID != rec.UID {
			return nil
		}
		updates := mediaUpdates(*m.Media, rec)
		if len(updates) == 0 {
			return nil
		}
		return tx.Update(ref, updates)
	})
	if err != nil {
		return fmt.Errorf("update message %s: %w", ref.Path, err)
	}
	return nil
}

// mediaUpdates returns the field updates that bring a message's media in line with
// an upload's result.
func mediaUpdates(m model.Media, rec Upload) []firestore.Update {
	var u []firestore.Update
	set := func(path string, cur, want any) {
		if cur != want {
			u = append(u, firestore.Update{Path: path, Value: want})
		}
	}
	del := func(path string, present bool) {
		if present {
			u = append(u, firestore.Update{Path: path, Value: firestore.Delete})
		}
	}
	st := rec.Status
	if st == UploadRemoved {
		// Never a message status: a message citing removed media shows it as
		// rejected (the bytes are gone).
		st = model.MediaRejected
	}
	set("media.status", m.Status, st)
	switch st {
	case model.MediaReady:
		if rec.Width > 0 {
			set("media.width", m.Width, rec.Width)
			set("media.height", m.Height, rec.Height)
		}
		if rec.ThumbnailPath != "" {
			set("media.thumbnailPath", m.ThumbnailPath, rec.ThumbnailPath)
		} else {
			del("media.thumbnailPath", m.ThumbnailPath != "")
		}
		if rec.RenditionPath != "" {
			set("media.renditionPath", m.RenditionPath, rec.RenditionPath)
		} else {
			del("media.renditionPath", m.RenditionPath != "")
		}
	case model.MediaRejected:
		del("media.thumbnailPath", m.ThumbnailPath != "")
		del("media.renditionPath", m.RenditionPath != "")
		del("media.width", m.Width != 0)
		del("media.height", m.Height != 0)
		if r := messageReason(rec); r != "" {
			set("media.reason", m.Reason, r)
		} else {
			del("media.reason", m.Reason != "")
		}
	}
	if st != model.MediaRejected {
		del("media.reason", m.Reason != "")
	}
	return u
}

// HandleMessageEvent is a Firestore trigger handler (functions.Handler) for
// rooms/{roomId}/messages/{messageId} created (or written): a media message still
// pending whose upload was already checked gets the result now. It closes the race
// in which the upload is processed before the client writes its message. Idempotent;
// it returns an error only when a retry is wanted.
func (p *Processor) HandleMessageEvent(ctx context.Context, ev *firestoreevent.Event) error {
	if !ev.Exists() {
		return nil
	}
	ref, err := model.ParseDocPath(ev.Document)
	if err != nil || ref.Kind != model.KindMessage {
		return nil
	}
	var m model.Message
	if err := firestoreevent.DataTo(ev.Value, &m); err != nil {
		return nil // not a message the data model knows; nothing to do
	}
	return p.SyncMessage(ctx, ref.RoomID, ref.MessageID, m)
}

// SyncMessage applies the result of a finished upload check to message messageID of
// roomID, whose content is m, if m is a pending media message. Callers that see
// message writes some other way use it directly.
func (p *Processor) SyncMessage(ctx context.Context, roomID, messageID string, m model.Message) error {
	if m.Deleted() || m.Media == nil || m.Media.Status != model.MediaPending {
		return nil
	}
	obj, err := model.ParseObjectPath(m.Media.Path)
	if err != nil || obj.Kind != model.ObjectMedia || obj.RoomID != roomID {
		return nil
	}
	rec, err := p.readUpload(ctx, p.fs.Doc(UploadPath(obj.ID)))
	switch {
	case errors.Is(err, errNoRecord):
		return nil
	case err != nil:
		return err
	}
	if rec.ObjectPath != m.Media.Path || rec.Status == model.MediaPending {
		return nil // the finalize handler will find the message
	}
	return p.applyToMessage(ctx, p.fs.Doc(model.MessagePath(roomID, messageID)), rec)
}

// ReasonRemoved is media.reason on a message whose upload was removed (its other
// message deleted or redacted, its sender erased): the bytes are gone.
const ReasonRemoved = "removed"

// messageReason is the reason a message shows for rec's rejection ("" if the record
// has none).
func messageReason(rec Upload) string {
	if rec.Status == UploadRemoved {
		return ReasonRemoved
	}
	return rec.Reason
}
