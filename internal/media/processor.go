package media

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// Object is a finalized storage object, as a storage notification (Pub/Sub
// JSON_API_V1 payload) or an Eventarc google.cloud.storage.object.v1.finalized
// CloudEvent describes it.
type Object struct {
	Bucket      string
	Name        string
	Generation  int64
	ContentType string
	Size        int64
	// MD5Hash is the base64 MD5 of the content ("" for composite objects).
	MD5Hash string
}

// Processor checks uploaded objects and records the outcome. HandleFinalize is
// idempotent and safe under duplicate and reordered events. It is safe for
// concurrent use; Config.Workers bounds how many images decode at once, each in a
// worker process of its own, and how many images are held in memory.
type Processor struct {
	cfg     Config
	fs      *firestore.Client
	bucket  *storage.BucketHandle
	clock   clock.Clock
	log     *slog.Logger
	sem     chan struct{}
	worker  *worker
	metrics *metrics

	expirePage int // uploads per query of ExpireUploads; tests make it small
}

// NewProcessor validates cfg and deps.
func NewProcessor(cfg Config, deps Deps) (*Processor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := deps.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("media metrics: %w", err)
	}
	return &Processor{
		cfg:    cfg,
		fs:     deps.Firestore,
		bucket: deps.Storage.Bucket(cfg.Bucket),
		clock:  deps.Clock,
		log:    deps.Logger.With("component", "media-processor"),
		sem:    make(chan struct{}, cfg.Workers),
		worker: &worker{
			path:   cfg.WorkerPath,
			limits: workerLimits{Memory: cfg.WorkerMemory, CPU: cfg.WorkerCPU},
			wall:   cfg.WorkerTimeout,
			killed: func(reason string) { m.workerKills.WithLabelValues(reason).Inc() },
		},
		metrics: m,

		expirePage: expirePage,
	}, nil
}

// HandleFinalize handles the finalize event of one object. It returns nil when the
// event needs no retry: handled, a duplicate, stale, or not Hearth's (objects outside
// media/, or without an upload record, are left alone: the storage rules let no
// client write, so they came from a trusted writer). An error asks for a redelivery.
//
// The event only says which object to look at. What is checked, rejected or deleted
// is the object as stored, read back from storage (its live generation, size, MD5 and
// type), so a forged or stale event can at most make Hearth check the true object
// again; an event for an object that does not exist changes nothing. Once an upload
// is settled, any generation of its object other than the one that passed the checks
// is deleted (that generation only, under a precondition) and changes nothing else.
func (p *Processor) HandleFinalize(ctx context.Context, ev Object) error {
	log := p.log.With("object", ev.Name, "eventGeneration", ev.Generation)
	if ev.Bucket != p.cfg.Bucket {
		log.DebugContext(ctx, "other bucket; ignored", "bucket", ev.Bucket)
		return nil
	}
	ref, err := model.ParseObjectPath(ev.Name)
	if err != nil || ref.Kind != model.ObjectMedia {
		return nil // thumbnails, other folders
	}
	recRef := p.fs.Doc(UploadPath(ref.ID))
	rec, err := p.readUpload(ctx, recRef)
	switch {
	case errors.Is(err, errNoRecord):
		log.WarnContext(ctx, "media object without upload record; left alone")
		return nil
	case err != nil:
		return err
	}
	if rec.RenditionPath == ev.Name {
		return nil // Hearth's own JPEG rendition of a HEIC upload
	}
	if rec.ObjectPath != ev.Name {
		log.WarnContext(ctx, "upload record is for another object; left alone", "recordPath", rec.ObjectPath)
		return nil
	}
	if rec.Status == UploadRemoved { // final: no object of a removed upload stays
		return p.discardRemoved(ctx, log, rec)
	}
	if ev.MD5Hash != "" && ev.MD5Hash == rec.RewriteMD5 {
		// The event of Hearth's own cleaned copy: the run that wrote it (or its retry)
		// finishes. Skipping acts on nothing, so the claim needs no read-back.
		return nil
	}

	obj, err := p.completeObject(ctx, Object{Bucket: ev.Bucket, Name: ev.Name})
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		// Deleted (rejected by an earlier delivery), or never stored (a forged event).
		log.InfoContext(ctx, "no stored object; nothing to check")
		return p.applyToMessages(ctx, rec)
	case err != nil:
		return fmt.Errorf("read back %s: %w", ev.Name, err)
	}
	log = p.log.With("object", obj.Name, "generation", obj.Generation)
	if obj.Generation != ev.Generation || obj.Size != ev.Size || obj.MD5Hash != ev.MD5Hash || obj.ContentType != ev.ContentType {
		log.WarnContext(ctx, "event does not describe the stored object; acting on the stored object",
			"eventGeneration", ev.Generation, "eventSize", ev.Size, "eventType", ev.ContentType)
	}
	return p.process(ctx, log, recRef, rec, obj)
}

// process handles obj, the live generation of rec's object as read from storage.
//
// The record is read again first: rec was read before the object, and a run that
// rewrote the object in between (a concurrent delivery of the same event) recorded
// the copy's MD5 before writing it. Read after the object, the record always knows
// Hearth's own copy, which must never be checked as an upload (its size is not the
// declared one), rejected and deleted.
func (p *Processor) process(ctx context.Context, log *slog.Logger, recRef *firestore.DocumentRef, rec Upload, obj Object) error {
	fresh, err := p.readUpload(ctx, recRef)
	switch {
	case errors.Is(err, errNoRecord):
		return nil
	case err != nil:
		return err
	}
	if fresh.ObjectPath != rec.ObjectPath {
		return nil
	}
	if fresh.Status == UploadRemoved {
		return p.discardRemoved(ctx, log, fresh)
	}
	rec = fresh
	if obj.MD5Hash != "" && obj.MD5Hash == rec.RewriteMD5 {
		// Hearth's own cleaned copy, and the event was about the upload it replaced.
		if rec.Status != model.MediaPending {
			return p.applyToMessages(ctx, rec) // a duplicate: make sure the messages carry the result
		}
		// The run that wrote the copy stopped before recording its result (this is the
		// upload's event delivered again): finish from the copy.
		res, err := p.timedCheck(ctx, obj, rec, true)
		return p.settle(ctx, log, obj, recRef, rec, res, err)
	}
	switch {
	case rec.Status == model.MediaPending:
		// The first generation to arrive (the URL creates the object once).
	case rec.Status == model.MediaRejected && obj.Generation > rec.Generation:
		// The rejected generation was deleted (or never arrived), so the URL, while
		// still valid, could create the object anew: checked from scratch.
	case rec.Status == model.MediaReady && obj.Generation == rec.StoredGeneration,
		rec.Status == model.MediaReady && rec.StoredGeneration == 0 && obj.Generation == rec.Generation:
		return p.applyToMessages(ctx, rec) // a duplicate (records from before StoredGeneration: Generation)
	default:
		return p.deleteUnchecked(ctx, log, rec, obj)
	}

	res, err := p.timedCheck(ctx, obj, rec, false)
	if errors.Is(err, errSuperseded) && rec.RewriteMD5 != "" {
		// The checked generation was replaced by Hearth's cleaned copy: an earlier run
		// rewrote the object and failed before recording the result. Finish that run
		// from the copy.
		if cur, cerr := p.completeObject(ctx, Object{Bucket: obj.Bucket, Name: obj.Name}); cerr == nil && cur.MD5Hash == rec.RewriteMD5 {
			obj = cur
			res, err = p.timedCheck(ctx, obj, rec, true)
		}
	}
	return p.settle(ctx, log, obj, recRef, rec, res, err)
}

// deleteUnchecked deletes obj, a generation of a settled upload's object that is not
// the one that passed the checks (nor Hearth's cleaned copy of it): only single-use
// URLs create upload objects, so it was written around them. Only that generation is
// deleted, and only while it is the live one (a generation precondition), so the
// checked object, or anything newer, is never touched. The record and the messages
// keep the checked result; downloads are pinned to the checked generation.
func (p *Processor) deleteUnchecked(ctx context.Context, log *slog.Logger, rec Upload, obj Object) error {
	log.WarnContext(ctx, "generation that was never checked; deleting it",
		"status", rec.Status, "checkedGeneration", rec.Generation, "storedGeneration", rec.StoredGeneration)
	h := p.bucket.Object(obj.Name).Generation(obj.Generation).If(storage.Conditions{GenerationMatch: obj.Generation})
	err := h.Delete(ctx)
	switch {
	case err == nil, errors.Is(err, storage.ErrObjectNotExist):
		return nil
	case isPreconditionFailed(err):
		log.InfoContext(ctx, "unchecked generation already replaced; its own event decides")
		return nil
	default:
		return fmt.Errorf("delete unchecked %s#%d: %w", obj.Name, obj.Generation, err)
	}
}

// settle records the outcome of checking obj (res and err as check returned them)
// on the upload record and in the messages.
func (p *Processor) settle(ctx context.Context, log *slog.Logger, obj Object, recRef *firestore.DocumentRef, rec Upload, res checkResult, err error) error {
	var rej *rejectError
	switch {
	case errors.As(err, &rej):
		return p.reject(ctx, log, obj, recRef, rec, rej)
	case errors.Is(err, errSuperseded):
		log.InfoContext(ctx, "object replaced or deleted while checking; its own event decides")
		return nil
	case err != nil:
		return fmt.Errorf("check %s#%d: %w", obj.Name, obj.Generation, err)
	}

	stored := obj.Generation
	if res.rewritten {
		cur, err := p.completeObject(ctx, Object{Bucket: obj.Bucket, Name: obj.Name})
		if err != nil {
			return fmt.Errorf("read back the cleaned copy of %s: %w", obj.Name, err)
		}
		if cur.MD5Hash != res.rewriteMD5 {
			// Replaced right after Hearth wrote it: the redelivery checks what is there.
			return fmt.Errorf("cleaned copy of %s replaced (live generation %d): %w", obj.Name, cur.Generation, errSuperseded)
		}
		stored = cur.Generation
	}

	rec.Status = model.MediaReady
	rec.Reason = ""
	rec.Generation = obj.Generation
	rec.StoredGeneration = stored
	rec.SniffedType = res.sniffed
	rec.StoredSize = res.storedSize
	rec.Width, rec.Height = res.width, res.height
	rec.ThumbnailPath = res.thumbnailPath
	rec.RenditionPath = res.renditionPath
	if res.rewriteMD5 != "" {
		rec.RewriteMD5 = res.rewriteMD5
	}
	rec.ProcessedAt = p.clock.Now()
	if ok, err := p.commit(ctx, recRef, rec); err != nil || !ok {
		return err
	}
	p.metrics.ready.Inc()
	log.InfoContext(ctx, "media ready", "type", res.sniffed, "width", res.width, "height", res.height,
		"thumbnail", res.thumbnailPath, "rewritten", res.rewritten)
	return p.applyToMessages(ctx, rec)
}

// errNoRecord: there is no uploads/{id} for the object.
var errNoRecord = errors.New("no upload record")

// errSuperseded: the generation being checked is gone (replaced or deleted).
var errSuperseded = errors.New("object generation superseded")

func (p *Processor) readUpload(ctx context.Context, ref *firestore.DocumentRef) (Upload, error) {
	snap, err := ref.Get(ctx)
	if firestoreerr.IsNotFound(err) {
		return Upload{}, errNoRecord
	}
	if err != nil {
		return Upload{}, fmt.Errorf("read %s: %w", ref.Path, err)
	}
	var rec Upload
	if err := snap.DataTo(&rec); err != nil {
		return Upload{}, fmt.Errorf("decode %s: %w", ref.Path, err)
	}
	return rec, nil
}

// checkResult is what a successful check found and wrote.
type checkResult struct {
	sniffed       string
	storedSize    int64
	width, height int
	thumbnailPath string
	renditionPath string // a JPEG of a HEIC upload
	rewritten     bool
	rewriteMD5    string // of the cleaned copy, when rewritten
}

// timedCheck is check, timed by its result (ok, rejected, error).
func (p *Processor) timedCheck(ctx context.Context, obj Object, rec Upload, cleaned bool) (checkResult, error) {
	start := p.clock.Now()
	res, err := p.check(ctx, obj, rec, cleaned)
	result := "ok"
	if errors.As(err, new(*rejectError)) {
		result = "rejected"
	} else if err != nil {
		result = "error"
	}
	p.metrics.checkDuration.WithLabelValues(result).Observe(max(p.clock.Now().Sub(start), 0).Seconds())
	return res, err
}

// check sniffs and checks one object generation; for images it writes the thumbnail
// and replaces the object with its cleaned copy. A *rejectError condemns the upload.
// cleaned says obj is Hearth's own cleaned copy: its size is not the declared one,
// and it is not rewritten again.
func (p *Processor) check(ctx context.Context, obj Object, rec Upload, cleaned bool) (checkResult, error) {
	var res checkResult
	kind, ok := model.MediaKindOf(rec.ContentType)
	if !ok {
		return res, reject(RejectTypeMismatch, "recorded type %q is not allowed", rec.ContentType)
	}
	if obj.ContentType != rec.ContentType {
		return res, reject(RejectTypeMismatch, "stored as %q, issued for %q", obj.ContentType, rec.ContentType)
	}
	want := rec.Size
	if cleaned {
		want = obj.Size
	}
	if obj.Size != want {
		return res, reject(RejectSizeMismatch, "%d bytes, declared %d", obj.Size, rec.Size)
	}
	if kind == model.MessageImage {
		if want > model.MaxImageSize {
			return res, reject(RejectSizeMismatch, "%d bytes > %d for an image", want, model.MaxImageSize)
		}
		// A worker slot before the bytes: an image is read whole, and the checks
		// waiting for a slot (every finalized upload is handled as it arrives) must
		// not hold theirs. The slot is kept until the results are written, which
		// is as long as this process holds the image and what the worker made of it.
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		defer func() { <-p.sem }()
	}
	h := p.bucket.Object(obj.Name).Generation(obj.Generation)
	r, err := h.NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return res, errSuperseded
	}
	if err != nil {
		return res, fmt.Errorf("open: %w", err)
	}
	defer r.Close()

	if kind != model.MessageImage {
		return p.checkOpaque(ctx, obj, rec, r, cleaned)
	}
	// Images are read whole (at most MaxImageSize) to be decoded.
	data, err := io.ReadAll(io.LimitReader(r, want+1))
	if err != nil {
		return res, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) != want {
		return res, reject(RejectSizeMismatch, "read %d bytes, expected %d", len(data), want)
	}
	res.sniffed = Sniff(data)
	if !Matches(rec.ContentType, res.sniffed) {
		return res, reject(RejectTypeMismatch, "bytes are %s, declared %s", res.sniffed, rec.ContentType)
	}
	// In a worker process with its own memory, CPU and time limits: a file that
	// exhausts them costs one child and is rejected; this process carries on.
	out, err := p.worker.run(ctx, opImage, rec.ContentType, data)
	if err != nil {
		return res, err
	}
	res.width, res.height = out.Width, out.Height
	res.storedSize = obj.Size
	ref, _ := model.ParseObjectPath(rec.ObjectPath)
	if out.Thumb != nil {
		res.thumbnailPath = model.ThumbObjectPath(ref.RoomID, ref.UID, ref.ID)
		if err := p.write(ctx, p.bucket.Object(res.thumbnailPath), model.ThumbContentType, out.Thumb); err != nil {
			return res, fmt.Errorf("write thumbnail: %w", err)
		}
	}
	if out.Rendition != nil {
		res.renditionPath = model.MediaObjectPath(ref.RoomID, ref.UID, ref.ID, model.ThumbExt)
		if res.renditionPath == rec.ObjectPath {
			return res, fmt.Errorf("rendition of %s would replace it", rec.ObjectPath)
		}
		if err := p.write(ctx, p.bucket.Object(res.renditionPath), model.ThumbContentType, out.Rendition); err != nil {
			return res, fmt.Errorf("write rendition: %w", err)
		}
	}
	if out.Stored != nil && !cleaned {
		if res.rewriteMD5, err = p.rewrite(ctx, obj, rec, out.Stored); err != nil {
			return res, err
		}
		res.storedSize = int64(len(out.Stored))
		res.rewritten = true
	}
	return res, nil
}

// checkOpaque checks a video, audio or file upload from its leading bytes (and, for
// text, all of it), and strips the metadata of MP4/MOV/M4A and MP3 (cleanOpaque):
// the object is replaced by its cleaned copy unless it is that copy already
// (cleaned). PDF, Ogg, AAC and text are stored as uploaded.
func (p *Processor) checkOpaque(ctx context.Context, obj Object, rec Upload, r io.Reader, cleaned bool) (checkResult, error) {
	var res checkResult
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return res, fmt.Errorf("read: %w", err)
	}
	head = head[:n]
	res.sniffed = Sniff(head)
	res.storedSize = obj.Size
	if !Matches(rec.ContentType, res.sniffed) {
		return res, reject(RejectTypeMismatch, "bytes are %s, declared %s", res.sniffed, rec.ContentType)
	}
	if rec.ContentType == "text/plain" {
		ok, err := validUTF8Text(io.MultiReader(bytes.NewReader(head), r))
		if err != nil {
			return res, fmt.Errorf("read: %w", err)
		}
		if !ok {
			return res, reject(RejectTypeMismatch, "not UTF-8 text")
		}
	}
	if cleaned || !strippable(res.sniffed) {
		return res, nil
	}
	res.rewriteMD5, res.storedSize, err = p.cleanStored(ctx, obj, rec, res.sniffed, head, r)
	res.rewritten = res.rewriteMD5 != ""
	return res, err
}

// rewrite replaces the upload with its cleaned copy, only if the upload is still the
// generation that was checked. The copy's MD5 is recorded first, so the finalize
// event of this very write is recognised and skipped. It returns that MD5.
func (p *Processor) rewrite(ctx context.Context, obj Object, rec Upload, data []byte) (string, error) {
	sum := md5.Sum(data)
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	ref, _ := model.ParseObjectPath(rec.ObjectPath)
	if _, err := p.fs.Doc(UploadPath(ref.ID)).Update(ctx, []firestore.Update{{Path: "rewriteMD5", Value: md5b64}}); err != nil {
		return "", fmt.Errorf("record rewrite: %w", err)
	}
	h := p.bucket.Object(obj.Name).If(storage.Conditions{GenerationMatch: obj.Generation})
	err := p.write(ctx, h, rec.ContentType, data)
	if isPreconditionFailed(err) {
		return "", errSuperseded
	}
	if err != nil {
		return "", fmt.Errorf("rewrite: %w", err)
	}
	return md5b64, nil
}

// write stores data in h with the content type and Hearth's cache policy.
func (p *Processor) write(ctx context.Context, h *storage.ObjectHandle, contentType string, data []byte) error {
	w := h.NewWriter(ctx)
	w.ContentType = contentType
	w.CacheControl = storedCacheControl
	w.ChunkSize = 0 // one request: the data is in memory
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// reject deletes the rejected generation (and the thumbnail of an earlier one),
// records why, and marks the messages.
func (p *Processor) reject(ctx context.Context, log *slog.Logger, obj Object, recRef *firestore.DocumentRef, rec Upload, rej *rejectError) error {
	log.WarnContext(ctx, "media rejected", "reason", rej.reason, "err", rej.err)
	// Deleting that generation (not "the object") never removes a newer upload.
	err := p.bucket.Object(obj.Name).Generation(obj.Generation).Delete(ctx)
	switch {
	case err == nil:
	case errors.Is(err, storage.ErrObjectNotExist):
		// Deleted by an earlier delivery, or replaced by a newer upload.
		attrs, aerr := p.bucket.Object(obj.Name).Attrs(ctx)
		if aerr == nil && attrs.Generation > obj.Generation {
			log.InfoContext(ctx, "rejected generation already replaced; its own event decides")
			return nil
		}
	default:
		return fmt.Errorf("delete rejected %s: %w", obj.Name, err)
	}
	for _, derived := range []string{rec.ThumbnailPath, rec.RenditionPath} {
		if derived == "" {
			continue
		}
		if err := p.bucket.Object(derived).Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
			return fmt.Errorf("delete %s: %w", derived, err)
		}
	}
	rec.Status = model.MediaRejected
	rec.Reason = string(rej.reason)
	rec.Generation = obj.Generation
	rec.StoredGeneration = 0
	rec.Width, rec.Height, rec.ThumbnailPath, rec.RenditionPath, rec.StoredSize = 0, 0, "", "", 0
	rec.ProcessedAt = p.clock.Now()
	if ok, err := p.commit(ctx, recRef, rec); err != nil || !ok {
		return err
	}
	p.metrics.rejected.WithLabelValues(string(rej.reason)).Inc()
	return p.applyToMessages(ctx, rec)
}

// commit stores the result rec (for generation rec.Generation) unless the record
// already holds the result of a newer generation: two generations of one object can
// be checked at the same time, and the older must not overwrite the newer. It keeps
// the stored rewriteMD5 when rec has none. A removed upload is final: nothing is
// stored, and its objects are deleted again. It reports whether rec was stored.
func (p *Processor) commit(ctx context.Context, ref *firestore.DocumentRef, rec Upload) (bool, error) {
	stored, removed := true, false
	var cur Upload
	err := p.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		stored, removed = true, false
		var found bool
		var err error
		if cur, found, err = txUpload(tx, ref); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("upload record %s: %w", ref.Path, errNoRecord)
		}
		if cur.Status == UploadRemoved {
			stored, removed = false, true
			return nil
		}
		if cur.Status != model.MediaPending && cur.Generation > rec.Generation {
			stored = false
			return nil
		}
		if rec.RewriteMD5 == "" {
			rec.RewriteMD5 = cur.RewriteMD5
		}
		return tx.Set(ref, rec)
	})
	if err != nil {
		return false, fmt.Errorf("record result of %s: %w", rec.ObjectPath, err)
	}
	if removed {
		// Removed while being checked: what the check wrote (thumbnail, cleaned copy)
		// goes too.
		return false, p.remover().deleteObjects(ctx, cur)
	}
	return stored, nil
}

func isPreconditionFailed(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed
}
