package media

import (
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// The media pipeline's backend-only collections are model.UploadsCollection (one Upload
// per issued upload URL, keyed by object id) and model.UploadQuotasCollection (one Quota
// per user and UTC day). Neither appears in the client contract: the Firestore rules deny
// every client access (no match block names them).

// UploadPath returns "uploads/{id}".
func UploadPath(id string) string { return model.UploadsCollection + "/" + id }

// QuotaPath returns "uploadQuotas/{uid}_{yyyymmdd}" for the UTC day of t.
func QuotaPath(uid string, t time.Time) string {
	return model.UploadQuotasCollection + "/" + uid + "_" + t.UTC().Format("20060102")
}

// Upload is uploads/{id}: an issued upload URL and, once the object arrived, the
// result of its checks. The id is the object id of ObjectPath. Backend only.
type Upload struct {
	RoomID      string `firestore:"roomId"`
	UID         string `firestore:"uid"`
	ObjectPath  string `firestore:"objectPath"`
	ContentType string `firestore:"contentType"`
	// Size is the declared size; the signed URL admits exactly this many bytes.
	Size int64 `firestore:"size"`
	// FileName is the client's name for the file, cleaned; only ever used in the
	// Content-Disposition of downloads, never in a path.
	FileName  string    `firestore:"fileName,omitempty"`
	CreatedAt time.Time `firestore:"createdAt"`
	// ExpiresAt is when the upload URL stops working.
	ExpiresAt time.Time `firestore:"expiresAt"`

	// Status is pending until the object has been checked, then ready or rejected;
	// rejected (RejectNeverUploaded) too when no object arrived before ExpiresAt
	// (see Processor.ExpireUploads). UploadRemoved, from any of them, is final: the
	// media was removed (its message deleted or redacted, its uploader erased).
	Status model.MediaStatus `firestore:"status"`
	// Reason says why the upload was rejected (RejectReason values).
	Reason string `firestore:"reason,omitempty"`
	// Generation is the object generation the result is about: the generation that
	// was uploaded and checked.
	Generation int64 `firestore:"generation,omitempty"`
	// StoredGeneration is the generation stored once the check passed: Generation
	// itself, or the generation of Hearth's cleaned copy when the check rewrote the
	// object. Downloads are pinned to it; any other generation of the object is not
	// Hearth's and is deleted when its event arrives.
	StoredGeneration int64 `firestore:"storedGeneration,omitempty"`
	// RewriteMD5 is the base64 MD5 of the copy Hearth is writing in place of the
	// upload (metadata stripped), recorded before the write: the finalize event of
	// Hearth's own write carries it and is skipped.
	RewriteMD5 string `firestore:"rewriteMD5,omitempty"`
	// SniffedType is the content type found in the bytes.
	SniffedType   string `firestore:"sniffedType,omitempty"`
	StoredSize    int64  `firestore:"storedSize,omitempty"`
	Width         int    `firestore:"width,omitempty"`
	Height        int    `firestore:"height,omitempty"`
	ThumbnailPath string `firestore:"thumbnailPath,omitempty"`
	// RenditionPath is a JPEG of the whole picture for a HEIC upload,
	// media/{roomId}/{uid}/{id}.jpg (the upload's path with extension jpg), which
	// GET /v1/media serves like the upload itself.
	RenditionPath string    `firestore:"renditionPath,omitempty"`
	ProcessedAt   time.Time `firestore:"processedAt,omitempty"`
	// RemovedAt is when the upload was removed (Status UploadRemoved), and
	// RemovedFor why: the message whose deletion removed it, or "user-erased".
	RemovedAt  time.Time `firestore:"removedAt,omitempty"`
	RemovedFor string    `firestore:"removedFor,omitempty"`
}

// UploadRemoved is the final status of an upload record whose media was removed:
// the message that carried it was deleted or redacted, or its uploader erased
// (lifecycle.go). Its objects are deleted; the record stays as a tombstone so that
// late storage events for the object are recognised and their objects deleted too.
// It is a status of upload records only, never of a message's media (a message that
// still cites a removed upload shows it as rejected), so the Firestore rules never
// see it.
const UploadRemoved model.MediaStatus = "removed"

// Quota is uploadQuotas/{uid}_{yyyymmdd}: what a user was granted on one UTC day.
// ExpireAt is a day after the day ends, for a Firestore TTL policy to delete it.
type Quota struct {
	UID      string    `firestore:"uid"`
	Day      string    `firestore:"day"` // yyyymmdd, UTC
	Count    int64     `firestore:"count"`
	Bytes    int64     `firestore:"bytes"`
	ExpireAt time.Time `firestore:"expireAt"`
}

// RejectReason says why an upload was rejected.
type RejectReason string

// The reasons.
const (
	RejectTypeMismatch  RejectReason = "type-mismatch" // the bytes are not the declared type
	RejectSizeMismatch  RejectReason = "size-mismatch" // not the declared size
	RejectTooManyPixels RejectReason = "too-many-pixels"
	RejectUndecodable   RejectReason = "undecodable" // an image that does not decode
	RejectMetadata      RejectReason = "metadata"    // metadata that cannot be removed safely
	// RejectMalformed: the file's structure is broken or contradicts itself (a
	// length, box or chunk past the end, a truncated header, extents adding up to
	// more than the file).
	RejectMalformed RejectReason = "malformed"
	// RejectTooComplex: the file is over a structural cap of its walk (boxes, items,
	// extents, chunks, frames, tags, JPEG scans), however valid, or checking it ran
	// out of the worker's memory, CPU time or wall time.
	RejectTooComplex RejectReason = "too-complex"
	// RejectNeverUploaded: the URL expired (plus Config.ExpireGrace) and no object had
	// arrived; Processor.ExpireUploads records it.
	RejectNeverUploaded RejectReason = "never-uploaded"
)

// txUpload reads the upload record at ref in tx; found is false when there is none.
func txUpload(tx *firestore.Transaction, ref *firestore.DocumentRef) (rec Upload, found bool, err error) {
	snap, err := tx.Get(ref)
	if firestoreerr.IsNotFound(err) {
		return Upload{}, false, nil
	}
	if err != nil {
		return Upload{}, false, err
	}
	if err := snap.DataTo(&rec); err != nil {
		return Upload{}, false, fmt.Errorf("decode %s: %w", ref.Path, err)
	}
	return rec, true, nil
}
