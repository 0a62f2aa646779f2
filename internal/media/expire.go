package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/model"
)

// ExpireUploads settles the uploads still pending Config.ExpireGrace after their URL
// expired, so that no message waits for them forever. The object of each is looked up:
//
//   - It exists: the upload arrived but its finalize event was lost. The object is
//     processed as HandleFinalize processes it, and the message turns ready or rejected.
//   - It does not: the upload never arrived (the app was killed, the user gave up). The
//     record is marked rejected with RejectNeverUploaded, only if it is still pending
//     when written, and so are its messages.
//
// The rejection is recorded for generation 0, so a real object that still arrives
// later (its event overdue, or a PUT that began just before the URL expired) is
// processed over it: every generation's result supersedes it in commit. ExpireUploads
// is idempotent and safe to run in several processes at once. It returns how many
// uploads it settled; a failure with one upload does not stop the others (the errors
// are joined).
func (p *Processor) ExpireUploads(ctx context.Context) (int, error) {
	cutoff := p.clock.Now().Add(-p.cfg.ExpireGrace).UTC()
	q := p.fs.Collection(model.UploadsCollection).
		Where("status", "==", string(model.MediaPending)).
		Where("expiresAt", "<", cutoff).
		OrderBy("expiresAt", firestore.Asc).
		Limit(p.expirePage)
	settled := 0
	var errs []error
	for {
		snaps, err := q.Documents(ctx).GetAll()
		if err != nil {
			errs = append(errs, fmt.Errorf("query expired uploads: %w", err))
			return settled, errors.Join(errs...)
		}
		for _, snap := range snaps {
			done, err := p.expireUpload(ctx, snap)
			if done {
				settled++
			}
			if err != nil {
				errs = append(errs, err)
			}
			if ctx.Err() != nil {
				return settled, errors.Join(append(errs, ctx.Err())...)
			}
		}
		if len(snaps) < p.expirePage {
			return settled, errors.Join(errs...)
		}
		// Continue after the last one rather than querying afresh: uploads this round
		// left pending (a failure, an object replaced meanwhile) must not come back
		// round after round.
		q = q.StartAfter(snaps[len(snaps)-1])
	}
}

// expireUpload settles one expired pending upload and reports whether it did.
func (p *Processor) expireUpload(ctx context.Context, snap *firestore.DocumentSnapshot) (bool, error) {
	var rec Upload
	if err := snap.DataTo(&rec); err != nil {
		return false, fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
	}
	log := p.log.With("object", rec.ObjectPath, "urlExpiredAt", rec.ExpiresAt)
	found, obj, err := p.lookUp(ctx, rec.ObjectPath)
	if err != nil {
		return false, err
	}
	if found {
		log.WarnContext(ctx, "expired upload was stored but never processed (finalize event lost); processing it now")
		if err := p.processLost(ctx, log, snap.Ref, obj); err != nil {
			return false, fmt.Errorf("process %s: %w", rec.ObjectPath, err)
		}
		// Processing may leave it pending (the object was replaced meanwhile: the
		// new generation's event settles it); count only what it settled.
		rec, err := p.readUpload(ctx, snap.Ref)
		if err != nil {
			return false, err
		}
		return rec.Status != model.MediaPending, nil
	}

	rec, stored, err := p.markNeverUploaded(ctx, snap.Ref)
	if err != nil || !stored {
		return false, err // !stored: settled meanwhile, by its event or another sweep
	}
	log.InfoContext(ctx, "upload never arrived; rejected", "reason", RejectNeverUploaded)
	p.metrics.rejected.WithLabelValues(string(RejectNeverUploaded)).Inc()
	if err := p.applyToMessages(ctx, rec); err != nil {
		return true, err
	}
	// A last look. An object finalized between the first look and the rejection is
	// processed by its own event over the rejection (generation 0 loses), but that
	// event's message update may have landed before ours, and the event may be lost
	// too. Either way processing it here brings the record and the messages to its
	// result (a result already recorded is only applied to the messages again).
	if found, obj, err = p.lookUp(ctx, rec.ObjectPath); err != nil || !found {
		return true, err
	}
	log.WarnContext(ctx, "object arrived while its upload was being expired; processing it")
	if err := p.processLost(ctx, log, snap.Ref, obj); err != nil {
		return true, fmt.Errorf("process %s: %w", rec.ObjectPath, err)
	}
	return true, nil
}

// lookUp returns the live generation of an object as a finalize event would describe
// it, and whether there is one.
func (p *Processor) lookUp(ctx context.Context, name string) (bool, Object, error) {
	obj, err := p.completeObject(ctx, Object{Bucket: p.cfg.Bucket, Name: name})
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return false, obj, nil
	case err != nil:
		return false, obj, fmt.Errorf("expire: %w", err)
	}
	return true, obj, nil
}

// processLost processes the object of an upload whose finalize event never came, the
// way HandleFinalize processes an event.
func (p *Processor) processLost(ctx context.Context, log *slog.Logger, recRef *firestore.DocumentRef, obj Object) error {
	rec, err := p.readUpload(ctx, recRef)
	if err != nil {
		return err
	}
	if obj.MD5Hash == "" || obj.MD5Hash != rec.RewriteMD5 {
		return p.HandleFinalize(ctx, obj)
	}
	// The object is Hearth's cleaned copy, whose own event HandleFinalize skips.
	if rec.Generation != 0 {
		// Its run recorded a result: make sure the messages carry it.
		return p.applyToMessages(ctx, rec)
	}
	// Its run rewrote the upload and stopped before recording the result, and the
	// redelivered event that would have finished it never came: finish from the copy,
	// as HandleFinalize does.
	res, err := p.timedCheck(ctx, obj, rec, true)
	return p.settle(ctx, log, obj, recRef, rec, res, err)
}

// markNeverUploaded records that the upload of ref never arrived, in a transaction
// that first checks it is still pending: a result recorded meanwhile (a late finalize
// event, another sweep) is never overwritten. It returns the record as stored and
// whether it was stored.
func (p *Processor) markNeverUploaded(ctx context.Context, ref *firestore.DocumentRef) (Upload, bool, error) {
	var rec Upload
	stored := false
	err := p.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		stored = false
		var found bool
		var err error
		if rec, found, err = txUpload(tx, ref); err != nil || !found {
			return err
		}
		if rec.Status != model.MediaPending {
			return nil
		}
		rec.Status = model.MediaRejected
		rec.Reason = string(RejectNeverUploaded)
		rec.ProcessedAt = p.clock.Now()
		stored = true
		return tx.Update(ref, []firestore.Update{
			{Path: "status", Value: string(rec.Status)},
			{Path: "reason", Value: rec.Reason},
			{Path: "processedAt", Value: rec.ProcessedAt},
		})
	})
	if err != nil {
		return rec, false, fmt.Errorf("mark %s never uploaded: %w", ref.Path, err)
	}
	return rec, stored, nil
}
