package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/optimistic"
)

// HeaderLengthRange is the signed header that bounds an upload's size.
const HeaderLengthRange = "x-goog-content-length-range"

// HeaderIfGenerationMatch is the signed precondition header of upload URLs. Its value
// is always "0": Cloud Storage stores the PUT only while the object has no live
// generation, so a URL creates its object once and can never replace it (a replay
// answers 412 ConditionNotMet). Hearth's own rewrite of a checked object goes
// through the JSON API with its own credentials and its own precondition.
const HeaderIfGenerationMatch = "x-goog-if-generation-match"

// UploadRequest is the body of POST /v1/uploads.
type UploadRequest struct {
	RoomID      string `json:"roomId"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	// FileName is optional and only ever shown (Content-Disposition of downloads);
	// the object path never contains it.
	FileName string `json:"fileName,omitempty"`
}

// UploadTicket is the answer to POST /v1/uploads: PUT the bytes to UploadURL with
// exactly Headers before ExpiresAt, then write the message with media.path =
// ObjectPath and media.status "pending". Headers include
// x-goog-if-generation-match: 0, so the URL stores its object once (a second PUT
// answers 412 ConditionNotMet).
type UploadTicket struct {
	ObjectPath string            `json:"objectPath"`
	UploadURL  string            `json:"uploadUrl"`
	Method     string            `json:"method"`
	Headers    map[string]string `json:"headers"`
	ExpiresAt  time.Time         `json:"expiresAt"`
}

// Download is where GET /v1/media/{objectPath} redirects: a signed GET URL and the
// Cache-Control for the redirect itself.
type Download struct {
	URL       string
	ExpiresAt time.Time
	// CacheControl is for the 302: "private" (the redirect is per user and must
	// not sit in a shared cache) with a max-age below the URL's lifetime.
	CacheControl string
}

// Issuer issues upload URLs and download URLs. It is safe for concurrent use.
type Issuer struct {
	cfg    Config
	fs     *firestore.Client
	signer *urlSigner
	bucket *storage.BucketHandle // EraseUser deletes objects
	clock  clock.Clock
	log    *slog.Logger
}

// NewIssuer validates cfg and deps and loads the signing key (if any).
func NewIssuer(cfg Config, deps Deps) (*Issuer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := deps.validate(); err != nil {
		return nil, err
	}
	signer, err := newURLSigner(cfg, deps.Storage)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return &Issuer{
		cfg:    cfg,
		fs:     deps.Firestore,
		signer: signer,
		bucket: deps.Storage.Bucket(cfg.Bucket),
		clock:  deps.Clock,
		log:    deps.Logger.With("component", "media-issuer"),
	}, nil
}

// IssueUpload checks an upload request by uid and returns a signed upload URL.
// Errors: *model.ValidationError (also ErrTypeNotAllowed for a type off the
// allow-list), *TooLargeError (ErrTooLarge), ErrRoomNotFound, ErrNotMember, ErrBanned,
// ErrRoomArchived, *QuotaError (ErrQuotaExceeded); anything else is internal.
func (is *Issuer) IssueUpload(ctx context.Context, uid string, req UploadRequest) (UploadTicket, error) {
	contentType, kind, err := is.checkRequest(req)
	if err != nil {
		return UploadTicket{}, err
	}
	now := is.clock.Now()
	// The quota document of the day is read with the room and the membership: one
	// round trip for every read of the request (recordUpload reads it again only when
	// its guarded commit lost a race).
	quotaRef := is.fs.Doc(QuotaPath(uid, now.UTC()))
	a, err := readAccess(ctx, is.fs, req.RoomID, uid, quotaRef)
	if err != nil {
		return UploadTicket{}, err
	}
	if a.room.Archived {
		return UploadTicket{}, fmt.Errorf("room %s: %w", req.RoomID, ErrRoomArchived)
	}

	id, err := newObjectID()
	if err != nil {
		return UploadTicket{}, err
	}
	ext, _ := model.ExtOf(contentType)
	objectPath := model.MediaObjectPath(req.RoomID, uid, id, ext)
	expires := now.Add(UploadURLTTL)
	// Exactly the declared size: Cloud Storage refuses any other body before it is
	// stored, and the processor's size check is a second line.
	lengthRange := fmt.Sprintf("%d,%d", req.Size, req.Size)
	// Signing first: a URL whose record is not written is never handed out.
	signed, err := is.signer.sign(http.MethodPut, objectPath, contentType,
		[]string{HeaderLengthRange + ":" + lengthRange, HeaderIfGenerationMatch + ":0"}, nil, expires)
	if err != nil {
		return UploadTicket{}, fmt.Errorf("issue upload: %w", err)
	}
	rec := Upload{
		RoomID:      req.RoomID,
		UID:         uid,
		ObjectPath:  objectPath,
		ContentType: contentType,
		Size:        req.Size,
		FileName:    cleanFileName(req.FileName),
		CreatedAt:   now,
		ExpiresAt:   expires,
		Status:      model.MediaPending,
	}
	if err := is.recordUpload(ctx, id, rec, a.extra[0]); err != nil {
		return UploadTicket{}, err
	}
	is.log.InfoContext(ctx, "upload issued", "uid", uid, "room", req.RoomID, "object", objectPath,
		"contentType", contentType, "kind", kind, "size", req.Size)
	return UploadTicket{
		ObjectPath: objectPath,
		UploadURL:  signed,
		Method:     http.MethodPut,
		Headers: map[string]string{
			"Content-Type":          contentType,
			HeaderLengthRange:       lengthRange,
			HeaderIfGenerationMatch: "0",
		},
		ExpiresAt: expires,
	}, nil
}

// checkRequest validates an upload request without I/O and returns the canonical
// content type (lowercase, no parameters) and its kind.
func (is *Issuer) checkRequest(req UploadRequest) (string, model.MessageType, error) {
	var fields []model.FieldError
	if err := model.ValidateRoomID("roomId", req.RoomID); err != nil {
		var ve *model.ValidationError
		if errors.As(err, &ve) {
			fields = append(fields, ve.Fields...)
		}
	}
	contentType := req.ContentType
	if t, _, err := mime.ParseMediaType(req.ContentType); err == nil {
		contentType = t
	}
	kind, known := model.MediaKindOf(contentType)
	allowed := is.cfg.allowed(contentType)
	switch {
	case req.ContentType == "":
		fields = append(fields, model.FieldError{Field: "contentType", Reason: "required"})
	case !allowed:
		fields = append(fields, model.FieldError{Field: "contentType",
			Reason: "not allowed; allowed: " + strings.Join(is.cfg.allowedList(), ", ")})
	}
	if req.Size <= 0 {
		fields = append(fields, model.FieldError{Field: "size", Reason: "must be positive"})
	}
	if len(fields) > 0 {
		err := error(&model.ValidationError{Fields: fields})
		if req.ContentType != "" && !allowed {
			err = fmt.Errorf("%w: %w", ErrTypeNotAllowed, err)
		}
		return "", "", err
	}
	if !known { // unreachable: allowed implies known
		return "", "", fmt.Errorf("content type %s: %w", contentType, ErrTypeNotAllowed)
	}
	if limit := model.MaxUploadSize(kind); req.Size > limit {
		return "", "", &TooLargeError{ContentType: contentType, Size: req.Size, Limit: limit}
	}
	return contentType, kind, nil
}

// recordUpload charges the upload to uid's quota of the day and creates its record in
// one guarded commit (internal/optimistic), so concurrent requests cannot overdraw the
// quota: a commit whose quota read is stale fails and runs again on a fresh read. Not a
// read-write transaction: a user attaching ten photos at once makes the quota document
// hot, and the emulator resolves lock conflicts between transactions only by timing
// them out. quota is the quota document of rec's day as the caller read it; the first
// attempt uses it, every further one reads it again.
func (is *Issuer) recordUpload(ctx context.Context, id string, rec Upload, quota *firestore.DocumentSnapshot) error {
	now := rec.CreatedAt.UTC()
	quotaRef := is.fs.Doc(QuotaPath(rec.UID, now))
	if quota == nil || quota.Ref.Path != quotaRef.Path {
		quota = nil // read by the first attempt
	}
	uploadRef := is.fs.Doc(UploadPath(id))
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	reset := dayStart.AddDate(0, 0, 1)
	err := optimistic.Commit(ctx, is.fs, func(ctx context.Context, w *optimistic.Writes) error {
		q := Quota{UID: rec.UID, Day: now.Format("20060102"), ExpireAt: reset.AddDate(0, 0, 1)}
		snap := quota
		quota = nil
		if snap == nil {
			snaps, err := is.fs.GetAll(ctx, []*firestore.DocumentRef{quotaRef})
			if err != nil {
				return fmt.Errorf("read quota: %w", err)
			}
			snap = snaps[0]
		}
		if snap.Exists() {
			if err := snap.DataTo(&q); err != nil {
				return fmt.Errorf("decode quota: %w", err)
			}
		}
		qe := &QuotaError{ResetAt: reset, RetryAfter: reset.Sub(rec.CreatedAt).Round(time.Second)}
		switch {
		case is.cfg.DailyUploads > 0 && q.Count+1 > int64(is.cfg.DailyUploads):
			qe.What, qe.Used, qe.Limit = "uploads", q.Count, int64(is.cfg.DailyUploads)
			return qe
		case is.cfg.DailyUploadBytes > 0 && q.Bytes+rec.Size > is.cfg.DailyUploadBytes:
			qe.What, qe.Used, qe.Limit = "bytes", q.Bytes, is.cfg.DailyUploadBytes
			return qe
		}
		q.Count++
		q.Bytes += rec.Size
		w.Put(snap, q)
		w.Create(uploadRef, rec)
		return nil
	})
	if err != nil {
		var qe *QuotaError
		if errors.As(err, &qe) {
			return qe
		}
		return fmt.Errorf("record upload %s: %w", id, err)
	}
	return nil
}

// Download checks that uid may read objectPath (a media or thumbnail path, see
// ParseMediaPath) and returns a signed GET URL. With thumb, a media path stands for
// its thumbnail. Only media whose checks passed (status ready) are served, and the
// URL of the media object is pinned to the generation that passed them
// (Upload.StoredGeneration); removed media (UploadRemoved) is not found. Errors:
// *model.PathError (400), ErrRoomNotFound, ErrNotMember, ErrBanned,
// ErrMediaNotFound, ErrMediaNotReady.
func (is *Issuer) Download(ctx context.Context, uid, objectPath string, thumb bool) (Download, error) {
	ref, err := ParseMediaPath(objectPath)
	if err != nil {
		return Download{}, err
	}
	mediaID := ref.ID
	uploadRef := is.fs.Doc(UploadPath(mediaID))
	a, err := readAccess(ctx, is.fs, ref.RoomID, uid, uploadRef)
	if err != nil {
		return Download{}, err
	}
	snap := a.extra[0]
	if !snap.Exists() {
		return Download{}, fmt.Errorf("%s: %w", ref.Path(), ErrMediaNotFound)
	}
	var rec Upload
	if err := snap.DataTo(&rec); err != nil {
		return Download{}, fmt.Errorf("decode upload %s: %w", mediaID, err)
	}
	recRef, err := model.ParseObjectPath(rec.ObjectPath)
	rendition := rec.RenditionPath != "" && ref.Path() == rec.RenditionPath
	if err != nil || recRef.RoomID != ref.RoomID || recRef.UID != ref.UID ||
		(ref.Kind == model.ObjectMedia && rec.ObjectPath != ref.Path() && !rendition) {
		return Download{}, fmt.Errorf("%s: %w", ref.Path(), ErrMediaNotFound)
	}
	switch rec.Status {
	case model.MediaRejected:
		return Download{}, fmt.Errorf("%s rejected: %w", ref.Path(), ErrMediaNotFound)
	case UploadRemoved:
		return Download{}, fmt.Errorf("%s removed: %w", ref.Path(), ErrMediaNotFound)
	case model.MediaReady:
	default:
		return Download{}, fmt.Errorf("%s: %w", ref.Path(), ErrMediaNotReady)
	}
	object := rec.ObjectPath
	if rendition {
		object = rec.RenditionPath
	}
	if thumb || ref.Kind == model.ObjectThumb {
		if rec.ThumbnailPath == "" {
			return Download{}, fmt.Errorf("%s has no thumbnail: %w", rec.ObjectPath, ErrMediaNotFound)
		}
		object = rec.ThumbnailPath
	}
	query := url.Values{}
	if kind, _ := model.MediaKindOf(rec.ContentType); kind == model.MessageFile && object == rec.ObjectPath && rec.FileName != "" {
		query.Set("response-content-disposition", contentDisposition(rec.FileName))
	}
	if object == rec.ObjectPath && rec.StoredGeneration > 0 {
		// Pinned to the generation that passed the checks: should any other generation
		// ever be stored under the name, this URL does not serve it (404).
		query.Set("generation", strconv.FormatInt(rec.StoredGeneration, 10))
	}
	expires := is.clock.Now().Add(is.cfg.DownloadURLTTL)
	signed, err := is.signer.sign(http.MethodGet, object, "", nil, query, expires)
	if err != nil {
		return Download{}, fmt.Errorf("download %s: %w", object, err)
	}
	return Download{
		URL:          signed,
		ExpiresAt:    expires,
		CacheControl: "private, max-age=" + strconv.Itoa(int(is.cfg.DownloadMaxAge/time.Second)),
	}, nil
}

// ParseMediaPath parses the object path of GET /v1/media/{objectPath} (one leading
// slash allowed, as a router's catch-all parameter has it). Only canonical media and
// thumbnail paths pass: four segments, valid ids, no empty or dot segments, no
// escapes. The error is a *model.PathError.
func ParseMediaPath(raw string) (model.ObjectRef, error) {
	p := strings.TrimPrefix(raw, "/")
	ref, err := model.ParseObjectPath(p)
	if err != nil {
		return model.ObjectRef{}, err
	}
	if ref.Path() != p { // belt and braces: only the canonical spelling
		return model.ObjectRef{}, &model.PathError{Path: raw, Reason: "not canonical"}
	}
	return ref, nil
}

// newObjectID returns 128 random bits as 32 lowercase hex digits: a valid id
// (model.IDPattern) that can never be a reserved __...__ id.
func newObjectID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("object id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// cleanFileName keeps the last path element of a client's file name, without control
// characters or quotes, at most MaxFileNameLen runes.
func cleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > MaxFileNameLen {
		name = string(r[:MaxFileNameLen])
	}
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// contentDisposition is an attachment disposition with the name in RFC 5987 form
// (any language) and an ASCII fallback.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r > 0x7E || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, pathEscapeRFC5987(name))
}

// pathEscapeRFC5987 percent-encodes everything but RFC 5987 attr-chars.
func pathEscapeRFC5987(s string) string {
	const attrChars = "!#$&+-.^_`|~"
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(attrChars, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
