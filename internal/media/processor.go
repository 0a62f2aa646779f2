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
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
// worker process of its own.
type Processor struct {
	cfg    Config
	fs     *firestore.Client
	bucket *storage.BucketHandle
	now    func() time.Time
	log    *slog.Logger
	sem    chan struct{}
	worker *worker

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
	return &Processor{
		cfg:    cfg,
		fs:     deps.Firestore,
		bucket: deps.Storage.Bucket(cfg.Bucket),
		now:    deps.Clock.Now,
		log:    deps.Logger.With("component", "media-processor"),
		sem:    make(chan struct{}, cfg.Workers),
		worker: &worker{
			path:   cfg.WorkerPath,
			limits: workerLimits{Memory: cfg.WorkerMemory, CPU: cfg.WorkerCPU},
			wall:   cfg.WorkerTimeout,
		},

		expirePage: expirePage,
	}, nil
}

// HandleFinalize checks one finalized object. It returns nil when the event needs no
// retry: handled, a duplicate, stale, or not Hearth's (objects outside media/, or
// without an upload record, are left alone: the storage rules let no client write,
// so they came from a trusted writer). An error asks for a redelivery.
func (p *Processor) HandleFinalize(ctx context.Context, obj Object) error {
	log := p.log.With("object", obj.Name, "generation", obj.Generation)
	if obj.Bucket != p.cfg.Bucket {
		log.DebugContext(ctx, "other bucket; ignored", "bucket", obj.Bucket)
		return nil
	}
	ref, err := model.ParseObjectPath(obj.Name)
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
	if rec.RenditionPath == obj.Name {
		return nil // Hearth's own JPEG rendition of a HEIC upload
	}
	if rec.ObjectPath != obj.Name {
		log.WarnContext(ctx, "upload record is for another object; left alone", "recordPath", rec.ObjectPath)
		return nil
	}
	if obj.MD5Hash != "" && obj.MD5Hash == rec.RewriteMD5 {
		// Hearth's own cleaned copy: the run that wrote it (or its retry) finishes.
		return nil
	}
	if rec.Status != model.MediaPending && obj.Generation <= rec.Generation {
		// A duplicate or older event: make sure the messages carry the result.
		return p.applyToMessages(ctx, rec)
	}

	res, err := p.check(ctx, obj, rec, false)
	if errors.Is(err, errSuperseded) && rec.RewriteMD5 != "" {
		// The checked generation was replaced: by a newer upload (whose own event
		// decides), or by Hearth's cleaned copy when an earlier run rewrote the object
		// and failed before recording the result. Finish that run from the copy.
		attrs, aerr := p.bucket.Object(obj.Name).Attrs(ctx)
		if aerr == nil && base64.StdEncoding.EncodeToString(attrs.MD5) == rec.RewriteMD5 {
			obj = Object{Bucket: obj.Bucket, Name: obj.Name, Generation: attrs.Generation,
				ContentType: attrs.ContentType, Size: attrs.Size, MD5Hash: rec.RewriteMD5}
			res, err = p.check(ctx, obj, rec, true)
		}
	}
	return p.settle(ctx, log, obj, recRef, rec, res, err)
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

	rec.Status = model.MediaReady
	rec.Reason = ""
	rec.Generation = obj.Generation
	rec.SniffedType = res.sniffed
	rec.StoredSize = res.storedSize
	rec.Width, rec.Height = res.width, res.height
	rec.ThumbnailPath = res.thumbnailPath
	rec.RenditionPath = res.renditionPath
	if res.rewriteMD5 != "" {
		rec.RewriteMD5 = res.rewriteMD5
	}
	rec.ProcessedAt = p.now()
	if ok, err := p.commit(ctx, recRef, rec); err != nil || !ok {
		return err
	}
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
	if status.Code(err) == codes.NotFound {
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
		return p.checkOpaque(r, rec)
	}
	if want > model.MaxImageSize {
		return res, reject(RejectSizeMismatch, "%d bytes > %d for an image", want, model.MaxImageSize)
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
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return res, ctx.Err()
	}
	// In a worker process with its own memory, CPU and time limits: a file that
	// exhausts them costs one child and is rejected; this process carries on.
	out, err := p.worker.run(ctx, opImage, rec.ContentType, data)
	<-p.sem
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
// text, all of it). Hearth does not rewrite these.
func (p *Processor) checkOpaque(r io.Reader, rec Upload) (checkResult, error) {
	var res checkResult
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return res, fmt.Errorf("read: %w", err)
	}
	head = head[:n]
	res.sniffed = Sniff(head)
	res.storedSize = rec.Size
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
	return res, nil
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
	rec.Width, rec.Height, rec.ThumbnailPath, rec.RenditionPath, rec.StoredSize = 0, 0, "", "", 0
	rec.ProcessedAt = p.now()
	if ok, err := p.commit(ctx, recRef, rec); err != nil || !ok {
		return err
	}
	return p.applyToMessages(ctx, rec)
}

// commit stores the result rec (for generation rec.Generation) unless the record
// already holds the result of a newer generation: two generations of one object can
// be checked at the same time, and the older must not overwrite the newer. It keeps
// the stored rewriteMD5 when rec has none. It reports whether rec was stored.
func (p *Processor) commit(ctx context.Context, ref *firestore.DocumentRef, rec Upload) (bool, error) {
	stored := true
	err := p.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		stored = true
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		var cur Upload
		if err := snap.DataTo(&cur); err != nil {
			return err
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
	return stored, nil
}

func isPreconditionFailed(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed
}
