package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// The media lifecycle: what removes an upload, and how.
//
// A message loses its media through several doors: the sender's soft delete, written
// by the client straight to Firestore under the rules; a moderator's redaction through
// the API; a hard delete of the document by a trusted writer. All of them are a write
// of the message, so the message trigger (HandleMessageWritten) drives the removal,
// whatever the door. Erasing a user (EraseUser) removes every upload of theirs at once,
// with the quota documents.
//
// Removing an upload marks its record UploadRemoved first (GET /v1/media answers 404
// from then on, and the Storage rules refuse its objects), then deletes every
// generation of the object and of its thumbnail that storage still has; a missing
// object counts as deleted. The record stays as a tombstone: a finalize event that
// arrives later for the object (delayed, or a replayed upload URL) finds it and
// deletes that object too (HandleFinalize), a check still running when the upload was
// removed cannot record its result over it (Processor.commit), and the expiry sweep,
// which only takes pending uploads, never sees it again. Everything here is
// idempotent: a duplicate or retried event re-reads the message and the record, and
// deleting what is already gone succeeds.

// RemovedForUserErased is Upload.RemovedFor of the uploads of an erased user.
const RemovedForUserErased = "user-erased"

// remover removes uploads: it marks their records and deletes their objects.
type remover struct {
	fs     *firestore.Client
	bucket *storage.BucketHandle
	clock  clock.Clock
	log    *slog.Logger
}

func (p *Processor) remover() remover {
	return remover{fs: p.fs, bucket: p.bucket, clock: p.clock, log: p.log}
}

// HandleMessageWritten is the media removal part of the message trigger (functions'
// onMessageWritten calls it for every write of rooms/{roomId}/messages/{messageId}
// but a creation): when the message had media before and
// no longer carries the same media after (soft-deleted, redacted, hard-deleted), the
// upload is removed with RemoveForMessage. Every other write returns at once. It is
// idempotent and safe under duplicate and reordered events, because RemoveForMessage
// decides from what Firestore holds now, not from the event; it returns an error only
// when a retry is wanted.
func (p *Processor) HandleMessageWritten(ctx context.Context, ev *firestoreevent.Event) error {
	if !ev.Existed() {
		return nil // a create: nothing was removed
	}
	ref, err := model.ParseDocPath(ev.Document)
	if err != nil || ref.Kind != model.KindMessage {
		return nil
	}
	before := eventMediaPath(ev.OldValue)
	if before == "" || (ev.Exists() && eventMediaPath(ev.Value) == before) {
		return nil
	}
	_, err = p.RemoveForMessage(ctx, ref.RoomID, ref.MessageID, before)
	return err
}

// eventMediaPath returns media.path of a live message document in an event, or "" when
// there is none or the message is a tombstone.
func eventMediaPath(doc *firestorepb.Document) string {
	fields := firestoreevent.Fields(doc)
	if fields["deletedAt"] != nil {
		return ""
	}
	m, _ := fields["media"].(map[string]any)
	p, _ := m["path"].(string)
	return p
}

// RemoveForMessage removes the upload objectPath after message messageID of roomID
// stopped carrying it — unless a live message of the room still cites it (the message
// itself, re-read, when the event was stale; or another message the sender wrote with
// the same object). Only an upload whose record names that object in that room is
// touched. It reports whether it marked the record removed now (false when there was
// nothing to remove or it already was; in that case the objects are deleted again, so
// a retry finishes what a failed run left).
func (p *Processor) RemoveForMessage(ctx context.Context, roomID, messageID, objectPath string) (bool, error) {
	obj, err := model.ParseObjectPath(objectPath)
	if err != nil || obj.Kind != model.ObjectMedia || obj.RoomID != roomID || obj.Path() != objectPath {
		return false, nil // not a media object of this room: nothing of Hearth's to remove
	}
	live, err := p.liveReferences(ctx, obj)
	if err != nil {
		return false, err
	}
	if len(live) > 0 {
		p.log.DebugContext(ctx, "media still cited; kept", "object", objectPath, "messages", live)
		return false, nil
	}
	return p.remover().remove(ctx, obj, roomID, "message "+model.MessagePath(roomID, messageID))
}

// liveReferences returns the ids of the messages of obj's room, sent by its uploader,
// that are not deleted and whose media.path is obj. A message of anyone else citing
// the object counts for nothing, as for the processor (applyToMessage): the rules
// let a client cite only its own uploads.
func (p *Processor) liveReferences(ctx context.Context, obj model.ObjectRef) ([]string, error) {
	snaps, err := p.fs.Collection(model.MessagesCollectionPath(obj.RoomID)).
		Where("media.path", "==", obj.Path()).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("find messages citing %s: %w", obj.Path(), err)
	}
	var live []string
	for _, s := range snaps {
		deletedAt, _ := s.DataAt("deletedAt")
		sender, _ := s.DataAt("senderId")
		if deletedAt == nil && sender == obj.UID {
			live = append(live, s.Ref.ID)
		}
	}
	return live, nil
}

// remove marks the record of obj removed (for roomID; "" accepts any room) and deletes
// its objects. It reports whether the record was marked now.
func (r remover) remove(ctx context.Context, obj model.ObjectRef, roomID, why string) (bool, error) {
	recRef := r.fs.Doc(UploadPath(obj.ID))
	var rec Upload
	found, marked := false, false
	err := r.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		found, marked = false, false
		var ok bool
		var err error
		if rec, ok, err = txUpload(tx, recRef); err != nil || !ok {
			return err
		}
		if rec.ObjectPath != obj.Path() || (roomID != "" && rec.RoomID != roomID) {
			return nil // another object's record: not ours to touch
		}
		found = true
		if rec.Status == UploadRemoved {
			return nil
		}
		marked = true
		rec.Status, rec.RemovedAt, rec.RemovedFor = UploadRemoved, r.clock.Now().UTC(), why
		return tx.Update(recRef, []firestore.Update{
			{Path: "status", Value: string(rec.Status)},
			{Path: "removedAt", Value: rec.RemovedAt},
			{Path: "removedFor", Value: why},
		})
	})
	if err != nil {
		return false, fmt.Errorf("mark %s removed: %w", obj.Path(), err)
	}
	if !found {
		return false, nil
	}
	if err := r.deleteObjects(ctx, rec); err != nil {
		return marked, err
	}
	if marked {
		r.log.InfoContext(ctx, "media removed", "object", rec.ObjectPath, "for", why)
	}
	return marked, nil
}

// deleteObjects deletes every generation of rec's object and of its thumbnail that
// storage still has: the checked generation, any other one listed (a versioned bucket
// keeps replaced generations), and the live one. Gone already counts as deleted.
func (r remover) deleteObjects(ctx context.Context, rec Upload) error {
	obj, err := model.ParseObjectPath(rec.ObjectPath)
	if err != nil {
		return fmt.Errorf("delete objects of %q: %w", rec.ObjectPath, err)
	}
	paths := []string{rec.ObjectPath, model.ThumbObjectPath(obj.RoomID, obj.UID, obj.ID)}
	if rec.ThumbnailPath != "" && rec.ThumbnailPath != paths[1] {
		paths = append(paths, rec.ThumbnailPath)
	}
	// A HEIC's JPEG rendition, whether or not the record names it yet (a check
	// still running when the upload was removed may write it after the mark).
	if r := model.MediaObjectPath(obj.RoomID, obj.UID, obj.ID, model.ThumbExt); r != rec.ObjectPath {
		paths = append(paths, r)
	}
	if rec.RenditionPath != "" && !slices.Contains(paths, rec.RenditionPath) {
		paths = append(paths, rec.RenditionPath)
	}
	var errs []error
	for _, p := range paths {
		var known []int64
		if p == rec.ObjectPath && rec.Generation > 0 {
			known = append(known, rec.Generation)
		}
		if err := r.deleteAllGenerations(ctx, p, known); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteAllGenerations deletes the generations known of path and every generation
// listed under it, then the live object (one created after the listing).
func (r remover) deleteAllGenerations(ctx context.Context, path string, known []int64) error {
	gens := map[int64]bool{}
	for _, g := range known {
		gens[g] = true
	}
	it := r.bucket.Objects(ctx, &storage.Query{Prefix: path, Versions: true})
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fmt.Errorf("list generations of %s: %w", path, err)
		}
		if attrs.Name == path {
			gens[attrs.Generation] = true
		}
	}
	h := r.bucket.Object(path)
	for g := range gens {
		if err := h.Generation(g).Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
			return fmt.Errorf("delete %s#%d: %w", path, g, err)
		}
	}
	if err := h.Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return nil
}

// discardRemoved handles a finalize event for a removed upload (delayed, or the object
// was PUT again through the still valid upload URL): whatever the event says, every
// generation of the upload's objects is deleted again, and the upload stays removed.
func (p *Processor) discardRemoved(ctx context.Context, log *slog.Logger, rec Upload) error {
	log.InfoContext(ctx, "event for a removed upload; its objects are deleted")
	return p.remover().deleteObjects(ctx, rec)
}

// Erasure is what EraseUser removed.
type Erasure struct {
	// UploadsRemoved counts the upload records marked removed now.
	UploadsRemoved int `json:"uploadsRemoved"`
	// QuotasDeleted counts the quota documents deleted.
	QuotasDeleted int `json:"quotasDeleted"`
}

// EraseUser removes every upload of uid, whatever cites it (their messages stay,
// anonymised, without their media), and deletes uid's quota documents. It can be
// retried: a second call deletes the objects a failed one left and counts nothing
// twice.
func (is *Issuer) EraseUser(ctx context.Context, uid string) (Erasure, error) {
	r := remover{fs: is.fs, bucket: is.bucket, clock: is.clock, log: is.log}
	return r.eraseUser(ctx, uid)
}

func (r remover) eraseUser(ctx context.Context, uid string) (Erasure, error) {
	var res Erasure
	if uid == "" {
		return res, errors.New("erase media: empty uid")
	}
	var errs []error
	it := r.fs.Collection(model.UploadsCollection).Where("uid", "==", uid).Documents(ctx)
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			it.Stop()
			return res, fmt.Errorf("erase media of %s: find uploads: %w", uid, err)
		}
		var rec Upload
		if err := snap.DataTo(&rec); err != nil {
			errs = append(errs, fmt.Errorf("decode %s: %w", snap.Ref.Path, err))
			continue
		}
		obj, err := model.ParseObjectPath(rec.ObjectPath)
		if err != nil || obj.Kind != model.ObjectMedia || obj.ID != snap.Ref.ID || obj.UID != uid {
			errs = append(errs, fmt.Errorf("%s: object path %q is not the upload's", snap.Ref.Path, rec.ObjectPath))
			continue
		}
		marked, err := r.remove(ctx, obj, "", RemovedForUserErased)
		if marked {
			res.UploadsRemoved++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	quotas, err := r.fs.Collection(model.UploadQuotasCollection).Where("uid", "==", uid).Documents(ctx).GetAll()
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("erase media of %s: find quotas: %w", uid, err))...)
	}
	for _, q := range quotas {
		if _, err := q.Ref.Delete(ctx); err != nil && !firestoreerr.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", q.Ref.Path, err))
			continue
		}
		res.QuotasDeleted++
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("erase media of %s: %w", uid, err)
	}
	return res, nil
}
