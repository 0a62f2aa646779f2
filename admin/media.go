package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/envconfig"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/model"
)

// Reasons of the media routes' errors.
const (
	ReasonUploadQuota   = "UPLOAD_QUOTA_EXCEEDED"
	ReasonMediaNotReady = "MEDIA_NOT_READY"
	ReasonMediaOff      = "MEDIA_NOT_CONFIGURED"
)

// MediaService is what the media routes (POST /v1/uploads, GET /v1/media/...)
// need; *media.Issuer implements it. The checks, signing and quotas live in
// internal/media; these handlers only translate HTTP.
type MediaService interface {
	IssueUpload(ctx context.Context, uid string, req media.UploadRequest) (media.UploadTicket, error)
	Download(ctx context.Context, uid, objectPath string, thumb bool) (media.Download, error)
}

var _ MediaService = (*media.Issuer)(nil)

// SetMedia makes s serve the media routes with m, in place of Deps.Media (tests swap in
// stubs with it).
func (s *Server) SetMedia(m MediaService) {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	s.media = m
}

// mediaService returns the server's MediaService, or the 503 error that says media
// storage is not configured.
func (s *Server) mediaService() (MediaService, error) {
	s.mediaMu.RLock()
	defer s.mediaMu.RUnlock()
	if s.media == nil {
		return nil, newError(http.StatusServiceUnavailable, CodeUnavailable, ReasonMediaOff,
			"media storage is not configured (HEARTH_STORAGE_BUCKET)")
	}
	return s.media, nil
}

// defaultMedia builds a MediaService from the server's own Storage client and bucket and
// the media settings of the environment (the env tags of media.Config: HEARTH_STORAGE_SIGNER,
// STORAGE_EMULATOR_HOST, quotas, ...), for a server given no Deps.Media.
func (s *Server) defaultMedia() (MediaService, error) {
	var cfg media.Config
	if err := envconfig.Parse(os.LookupEnv, &cfg); err != nil {
		return nil, fmt.Errorf("media config: %w", err)
	}
	cfg = cfg.Resolve()
	cfg.Bucket = s.cfg.StorageBucket
	cfg.PubSubEnabled = false // the API only issues URLs: it never receives notifications
	is, err := media.NewIssuer(cfg, media.Deps{Firestore: s.fs, Storage: s.storage, Clock: clock.Func(s.now), Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return is, nil
}

// eraseMedia removes uid's media for an erasure (DELETE /admin/v1/users/{uid}) and
// returns how many quota documents it deleted. Without media storage configured there
// is nothing to remove.
func (s *Server) eraseMedia(ctx context.Context, uid string) (int, error) {
	m, err := s.mediaService()
	if err != nil {
		return 0, nil // media not configured: no uploads were ever issued here
	}
	eraser, ok := m.(MediaEraser)
	if !ok {
		return 0, nil
	}
	res, err := eraser.EraseUser(ctx, uid)
	if err != nil {
		return res.QuotasDeleted, fmt.Errorf("erase %s: %w", uid, err)
	}
	s.log.InfoContext(ctx, "erased user's media", "uid", uid, "uploadsRemoved", res.UploadsRemoved, "quotasDeleted", res.QuotasDeleted)
	return res.QuotasDeleted, nil
}

// getMedia is GET /v1/media/*objectPath[?thumb=1]: a 302 to a short-lived signed
// download URL, for members of the object's room only (others get 404, like every
// room route), and only once the upload passed its checks (409 MEDIA_NOT_READY
// before). The redirect may be cached by the caller only ("private"), for less
// time than the URL lives.
func (s *Server) getMedia(c *gin.Context) {
	thumb := false
	switch c.Query("thumb") {
	case "", "0", "false":
	case "1", "true":
		thumb = true
	default:
		fail(c, fieldsError("invalid query", FieldIssue{Field: "thumb", Reason: "must be 1 or 0"}))
		return
	}
	ms, err := s.mediaService()
	if err != nil {
		fail(c, err)
		return
	}
	dl, err := ms.Download(c.Request.Context(), principalOf(c).UID, c.Param("objectPath"), thumb)
	if err != nil {
		fail(c, mediaError(err))
		return
	}
	c.Header("Cache-Control", dl.CacheControl)
	c.Header("Vary", "Authorization")
	c.Redirect(http.StatusFound, dl.URL)
}

// mediaError maps internal/media's errors to the API's.
func mediaError(err error) error {
	var pe *model.PathError
	var te *media.TooLargeError
	var qe *media.QuotaError
	switch {
	case errors.As(err, &pe):
		return fieldsError("invalid object path", FieldIssue{Field: "objectPath", Reason: pe.Reason}).withCause(err)
	case errors.Is(err, media.ErrRoomNotFound), errors.Is(err, media.ErrNotMember), errors.Is(err, media.ErrBanned):
		// As for every room route: a non-member (banned or not) cannot tell a
		// room they are not in from one that does not exist.
		return errRoomNotFound().withCause(err)
	case errors.Is(err, media.ErrRoomArchived):
		return errPrecondition(ReasonRoomArchived, "the room is archived").withCause(err)
	case errors.As(err, &te):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
			message: te.Error(), fields: []FieldIssue{{Field: "size", Reason: fmt.Sprintf("at most %d bytes for %s", te.Limit, te.ContentType)}},
			cause: err}
	case errors.As(err, &qe):
		return &apiError{status: http.StatusTooManyRequests, code: CodeResourceExhausted, reason: ReasonUploadQuota,
			message: qe.Error(), retryAfterSeconds: max(1, int(qe.RetryAfter.Seconds())), cause: err}
	case errors.Is(err, media.ErrMediaNotFound):
		return errNotFound("media not found").withCause(err)
	case errors.Is(err, media.ErrMediaNotReady):
		return errPrecondition(ReasonMediaNotReady, "the media is still being checked; try again when the message shows status ready").withCause(err)
	}
	return err // validation errors and the rest: toAPIError
}
