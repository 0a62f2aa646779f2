package media

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the client-facing operations (IssueUpload, Download). Check them with
// errors.Is; the API maps them to its error shape. Invalid requests are
// *model.ValidationError (400).
var (
	// ErrRoomNotFound: the room does not exist (404).
	ErrRoomNotFound = errors.New("room not found")
	// ErrNotMember: the caller is not a member of the room (403).
	ErrNotMember = errors.New("not a member of the room")
	// ErrBanned: the caller is banned from the room (403).
	ErrBanned = errors.New("banned from the room")
	// ErrRoomArchived: the room is archived and read-only, so no uploads (409).
	ErrRoomArchived = errors.New("room is archived")
	// ErrTypeNotAllowed: the content type is not on the allow-list (400; a
	// *model.ValidationError wraps it under field contentType).
	ErrTypeNotAllowed = errors.New("content type not allowed")
	// ErrTooLarge: the declared size is over the limit of its media type (413).
	ErrTooLarge = errors.New("upload too large")
	// ErrQuotaExceeded: the caller's daily upload quota is used up (429); the error
	// is a *QuotaError that tells when it resets.
	ErrQuotaExceeded = errors.New("daily upload quota exceeded")
	// ErrMediaNotFound: no such media object, or it was rejected (404).
	ErrMediaNotFound = errors.New("media not found")
	// ErrMediaNotReady: the media is still being checked (409).
	ErrMediaNotReady = errors.New("media not ready")
)

// TooLargeError says by how much an upload is over its limit. It matches ErrTooLarge.
type TooLargeError struct {
	ContentType string
	Size, Limit int64
}

// Error implements error.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("upload too large: %d > %d bytes for %s", e.Size, e.Limit, e.ContentType)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// QuotaError says which daily quota is used up and when it resets. It matches
// ErrQuotaExceeded; RetryAfter is for the Retry-After header.
type QuotaError struct {
	What       string // "uploads" or "bytes"
	Used       int64  // already used today
	Limit      int64
	ResetAt    time.Time
	RetryAfter time.Duration
}

// Error implements error.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("daily upload quota exceeded: %s %d of %d used; resets at %s",
		e.What, e.Used, e.Limit, e.ResetAt.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrQuotaExceeded) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuotaExceeded }
