package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/model"
)

// newMediaServer is a test server whose media routes use the suite's storage and
// signing key, configured the way `hearth serve` is under `hearth dev` (an Issuer of
// the environment's media settings with HEARTH_STORAGE_BUCKET, on the server's clock, injected as
// Deps.Media).
func newMediaServer(t testing.TB) *testServer {
	env := emutest.New(t)
	return newTestServerEnv(t, env, withMedia(t, env))
}

// withMedia configures a test server's media routes on env's storage, as newMediaServer
// does.
func withMedia(t testing.TB, env *emutest.Env) func(*Config, *Deps) {
	return func(c *Config, d *Deps) {
		c.StorageBucket = env.Bucket
		d.Storage = env.Storage()
		cfg := mediaConfigFromEnv(t)
		cfg.Bucket = env.Bucket
		is, err := media.NewIssuer(cfg, media.Deps{Firestore: env.Firestore(), Storage: env.Storage(),
			Clock: clock.Truncated(d.Clock, time.Microsecond), Logger: d.Logger})
		if err != nil {
			t.Fatalf("media.NewIssuer() = %v", err)
		}
		d.Media = is
	}
}

// mediaJPEG is a small photo.
func mediaJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 100, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type uploadTicket struct {
	ObjectPath string            `json:"objectPath"`
	UploadURL  string            `json:"uploadUrl"`
	Method     string            `json:"method"`
	Headers    map[string]string `json:"headers"`
	ExpiresAt  time.Time         `json:"expiresAt"`
}

// TestUploadAndDownloadRoutes is the client flow of docs/media.md through the real
// router: ask for an upload URL, PUT the bytes to the local verifying storage, let
// the processor check them, and download through the 302 — plus the refusals.
func TestUploadAndDownloadRoutes(t *testing.T) {
	t.Parallel()
	ts := newMediaServer(t)
	ctx := t.Context()
	r := ts.newRoom()
	photo := mediaJPEG(t)

	var tk uploadTicket
	resp := ts.call("POST", "/v1/uploads", r.member.Token, map[string]any{
		"roomId": r.ID, "contentType": "image/jpeg", "size": len(photo), "fileName": "IMG_0001.JPG"}, http.StatusCreated)
	resp.decode(t, &tk)
	if !strings.HasPrefix(tk.ObjectPath, "media/"+r.ID+"/"+r.member.UID+"/") || !strings.HasSuffix(tk.ObjectPath, ".jpg") ||
		tk.Method != "PUT" || tk.Headers["Content-Type"] != "image/jpeg" || tk.ExpiresAt.IsZero() {
		t.Fatalf("POST /v1/uploads = %s, want a ticket for media/%s/%s/....jpg", resp.Body, r.ID, r.member.UID)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("upload Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	put, _ := http.NewRequestWithContext(ctx, tk.Method, tk.UploadURL, bytes.NewReader(photo))
	for k, v := range tk.Headers {
		put.Header.Set(k, v)
	}
	presp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != http.StatusOK {
		t.Fatalf("PUT upload = %d, want 200", presp.StatusCode)
	}

	mediaPath := "/v1/media/" + tk.ObjectPath
	if got := ts.do(req{method: "GET", path: mediaPath, token: r.member.Token}); got.Code != http.StatusConflict || got.errorBody().Reason != ReasonMediaNotReady {
		t.Errorf("GET before the check = %s, want 409 %s", got, ReasonMediaNotReady)
	}

	// The storage event, as `hearth dev` (Run) or Eventarc (Handler) delivers it.
	cfg := mediaConfigFromEnv(t)
	proc, err := media.NewProcessor(cfg, media.Deps{Firestore: ts.env.Firestore(), Storage: ts.srv.storage})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := ts.srv.storage.Bucket(ts.env.Bucket).Object(tk.ObjectPath).Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.HandleFinalize(ctx, media.Object{Bucket: attrs.Bucket, Name: attrs.Name, Generation: attrs.Generation,
		ContentType: attrs.ContentType, Size: attrs.Size}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"member", mediaPath, r.member.Token, http.StatusFound},
		{"owner", mediaPath, r.owner.Token, http.StatusFound},
		{"thumbnail", mediaPath + "?thumb=1", r.admin.Token, http.StatusFound},
		{"thumbnail path", "/v1/media/thumbs/" + strings.TrimPrefix(tk.ObjectPath, "media/"), r.admin.Token, http.StatusFound},
		{"non-member", mediaPath, r.nonMember.Token, http.StatusNotFound},
		{"anonymous", mediaPath, "", http.StatusUnauthorized},
		{"bad thumb", mediaPath + "?thumb=yes", r.member.Token, http.StatusBadRequest},
		{"traversal", "/v1/media/media/" + r.ID + "/../../x.jpg", r.member.Token, http.StatusBadRequest},
		{"not media", "/v1/media/users/" + r.member.UID, r.member.Token, http.StatusBadRequest},
		{"unknown object", "/v1/media/" + model.MediaObjectPath(r.ID, r.member.UID, "0123456789abcdef0123456789abcdef", "jpg"), r.member.Token, http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ts.do(req{method: "GET", path: c.path, token: c.token})
			if got.Code != c.want {
				t.Fatalf("GET %s = %s, want %d", c.path, got, c.want)
			}
			if c.want != http.StatusFound {
				return
			}
			if cc := got.Header.Get("Cache-Control"); cc != "private, max-age=300" {
				t.Errorf("Cache-Control = %q, want private, max-age=300 (below the 10 min URL lifetime)", cc)
			}
			loc := got.Header.Get("Location")
			dl, err := http.Get(loc)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(dl.Body)
			dl.Body.Close()
			if dl.StatusCode != http.StatusOK || dl.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("GET %s = %d %s, want 200 image/jpeg", loc, dl.StatusCode, dl.Header.Get("Content-Type"))
			}
			if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("downloaded bytes are not a JPEG: %v", err)
			}
		})
	}

	// A banned member loses access at once.
	ts.call("POST", "/v1/rooms/"+r.ID+"/members/"+r.member.UID+"/ban", r.owner.Token, map[string]string{"reason": "spam"}, http.StatusOK)
	if got := ts.do(req{method: "GET", path: mediaPath, token: r.member.Token}); got.Code != http.StatusNotFound {
		t.Errorf("GET as banned = %s, want 404", got)
	}
	if got := ts.do(req{method: "POST", path: "/v1/uploads", token: r.member.Token,
		body: map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 10}}); got.Code != http.StatusNotFound {
		t.Errorf("POST /v1/uploads as banned = %s, want 404", got)
	}
}

// TestUploadRequestErrors: the request checks, through the router.
func TestUploadRequestErrors(t *testing.T) {
	t.Parallel()
	ts := newMediaServer(t)
	r := ts.newRoom()
	tests := []struct {
		name   string
		token  string
		body   any
		want   int
		field  string
		reason string
	}{
		{"non-member", r.nonMember.Token, map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 10}, 404, "", ""},
		{"no such room", r.member.Token, map[string]any{"roomId": "nope", "contentType": "image/jpeg", "size": 10}, 404, "", ""},
		{"disallowed type", r.member.Token, map[string]any{"roomId": r.ID, "contentType": "image/svg+xml", "size": 10}, 400, "contentType", ""},
		{"oversize", r.member.Token, map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": model.MaxImageSize + 1}, 413, "size", ""},
		{"zero size", r.member.Token, map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 0}, 400, "size", ""},
		{"unknown field", r.member.Token, map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 1, "path": "x"}, 400, "path", ""},
		{"size as string", r.member.Token, `{"roomId":"` + r.ID + `","contentType":"image/jpeg","size":"10"}`, 400, "", ""},
		{"bad room id", r.member.Token, map[string]any{"roomId": "a/b", "contentType": "image/jpeg", "size": 1}, 400, "roomId", ""},
		{"anonymous", "", map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": 10}, 401, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ts.do(req{method: "POST", path: "/v1/uploads", token: tc.token, body: tc.body})
			if got.Code != tc.want {
				t.Fatalf("POST /v1/uploads = %s, want %d", got, tc.want)
			}
			if tc.field != "" {
				found := false
				for _, f := range got.errorBody().Fields {
					found = found || f.Field == tc.field
				}
				if !found {
					t.Errorf("error fields = %+v, want one for %s", got.errorBody().Fields, tc.field)
				}
			}
		})
	}
}

// stubMedia returns fixed errors, to check how each becomes an HTTP answer.
type stubMedia struct{ err error }

func (s stubMedia) IssueUpload(context.Context, string, media.UploadRequest) (media.UploadTicket, error) {
	return media.UploadTicket{}, s.err
}

func (s stubMedia) Download(context.Context, string, string, bool) (media.Download, error) {
	return media.Download{}, s.err
}

func TestMediaErrorMapping(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	u := ts.newUser("Uma")
	quota := &media.QuotaError{What: "uploads", Used: 500, Limit: 500, ResetAt: time.Now().Add(90 * time.Minute), RetryAfter: 90 * time.Minute}
	tests := []struct {
		err        error
		status     int
		code       string
		reason     string
		retryAfter string
	}{
		{fmt.Errorf("x: %w", media.ErrRoomNotFound), 404, CodeNotFound, "", ""},
		{fmt.Errorf("x: %w", media.ErrNotMember), 404, CodeNotFound, "", ""},
		{fmt.Errorf("x: %w", media.ErrBanned), 404, CodeNotFound, "", ""},
		{fmt.Errorf("x: %w", media.ErrRoomArchived), 409, CodeFailedPrecondition, ReasonRoomArchived, ""},
		{&media.TooLargeError{ContentType: "video/mp4", Size: 300 << 20, Limit: model.MaxVideoSize}, 413, CodePayloadTooLarge, "", ""},
		{quota, 429, CodeResourceExhausted, ReasonUploadQuota, "5400"},
		{fmt.Errorf("x: %w", media.ErrMediaNotFound), 404, CodeNotFound, "", ""},
		{fmt.Errorf("x: %w", media.ErrMediaNotReady), 409, CodeFailedPrecondition, ReasonMediaNotReady, ""},
		{&model.ValidationError{Fields: []model.FieldError{{Field: "size", Reason: "must be positive"}}}, 400, CodeInvalidArgument, "", ""},
		{&model.PathError{Path: "x", Reason: "bad"}, 400, CodeInvalidArgument, "", ""},
		{errors.New("storage exploded"), 500, CodeInternal, "", ""},
	}
	for _, tc := range tests {
		ts.srv.SetMedia(stubMedia{tc.err})
		reqs := []req{{method: "POST", path: "/v1/uploads", token: u.Token, body: map[string]any{"roomId": "r1", "contentType": "image/jpeg", "size": 1}}}
		if !errors.As(tc.err, new(*media.TooLargeError)) { // a size is only ever refused on the way in
			reqs = append(reqs, req{method: "GET", path: "/v1/media/media/r1/u1/x.jpg", token: u.Token})
		}
		for _, r := range reqs {
			got := ts.do(r)
			e := got.errorBody()
			if got.Code != tc.status || e.Code != tc.code || e.Reason != tc.reason || got.Header.Get("Retry-After") != tc.retryAfter {
				t.Errorf("%s %s with %v = %d %s %s Retry-After %q, want %d %s %s %q", r.method, r.path, tc.err,
					got.Code, e.Code, e.Reason, got.Header.Get("Retry-After"), tc.status, tc.code, tc.reason, tc.retryAfter)
			}
			if tc.status == 500 && strings.Contains(string(got.Body), "exploded") {
				t.Error("an internal error's cause reached the client")
			}
		}
	}
}

// TestMediaNotConfigured: without a bucket the media routes answer 503.
func TestMediaNotConfigured(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	u := ts.newUser("Uma")
	got := ts.do(req{method: "POST", path: "/v1/uploads", token: u.Token, body: map[string]any{"roomId": "r1", "contentType": "image/jpeg", "size": 1}})
	if got.Code != http.StatusServiceUnavailable || got.errorBody().Reason != ReasonMediaOff {
		t.Errorf("POST /v1/uploads without storage = %s, want 503 %s", got, ReasonMediaOff)
	}
}

// TestRemovedMediaRoutes: a moderator's redaction through the API and a user's erasure
// remove the media, and GET /v1/media then answers 404 for it (original and
// thumbnail); the erased user's quota documents are gone. The message-written trigger
// runs as `hearth serve` registers it, fed by the Firestore emulator.
func TestRemovedMediaRoutes(t *testing.T) {
	t.Parallel()
	ts := newMediaServer(t)
	ctx := t.Context()
	db := ts.env.Firestore()
	root := ts.newAdmin("Root")
	r := ts.newRoom()
	cfg := mediaConfigFromEnv(t)
	proc, err := media.NewProcessor(cfg, media.Deps{Firestore: db, Storage: ts.srv.storage})
	if err != nil {
		t.Fatal(err)
	}
	events := ts.env.Events(firestoreevent.TypeWritten, model.MessagePattern)
	handlerErrs := make(chan error, 1)
	go func() {
		for {
			select {
			case ev := <-events:
				if err := proc.HandleMessageWritten(ctx, ev); err != nil {
					select {
					case handlerErrs <- fmt.Errorf("HandleMessageWritten(%s) = %w", ev.Document, err):
					default:
					}
				}
			case <-ctx.Done():
				return
			}
		}
	}()

	// photo uploads a photo as u through the routes, checks it, writes message id with
	// it, and returns its object path.
	photo := func(t *testing.T, u user, id string) string {
		body := mediaJPEG(t)
		var tk uploadTicket
		ts.call("POST", "/v1/uploads", u.Token, map[string]any{"roomId": r.ID, "contentType": "image/jpeg", "size": len(body)},
			http.StatusCreated).decode(t, &tk)
		put, _ := http.NewRequestWithContext(ctx, tk.Method, tk.UploadURL, bytes.NewReader(body))
		for k, v := range tk.Headers {
			put.Header.Set(k, v)
		}
		presp, err := http.DefaultClient.Do(put)
		if err != nil {
			t.Fatal(err)
		}
		presp.Body.Close()
		attrs, err := ts.srv.storage.Bucket(ts.env.Bucket).Object(tk.ObjectPath).Attrs(ctx)
		if err != nil {
			t.Fatalf("PUT %s = %d, object: %v", tk.ObjectPath, presp.StatusCode, err)
		}
		if err := proc.HandleFinalize(ctx, media.Object{Bucket: attrs.Bucket, Name: attrs.Name, Generation: attrs.Generation,
			ContentType: attrs.ContentType, Size: attrs.Size}); err != nil {
			t.Fatal(err)
		}
		m := model.Message{SenderID: u.UID, Type: model.MessageImage, CreatedAt: time.Now(),
			Media: &model.Media{Path: tk.ObjectPath, ContentType: "image/jpeg", Size: int64(len(body)), Status: model.MediaReady}}
		if _, err := db.Doc(model.MessagePath(r.ID, id)).Set(ctx, m); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/v1/media/" + tk.ObjectPath, "/v1/media/" + tk.ObjectPath + "?thumb=1"} {
			if got := ts.do(req{method: "GET", path: p, token: r.owner.Token}); got.Code != http.StatusFound {
				t.Fatalf("GET %s before removal = %s, want 302", p, got)
			}
		}
		return tk.ObjectPath
	}
	// gone checks that objectPath and its thumbnail are deleted and that GET /v1/media
	// answers 404 for both; with wait, it first waits for the deletion (done by the
	// trigger, after the request returned), polling storage rather than the API.
	gone := func(t *testing.T, objectPath string, wait bool) {
		t.Helper()
		thumb := "thumbs/" + strings.TrimPrefix(objectPath, "media/")
		deleted := func() error {
			select {
			case err := <-handlerErrs:
				t.Fatal(err)
			default:
			}
			for _, p := range []string{objectPath, thumb} {
				if _, err := ts.srv.storage.Bucket(ts.env.Bucket).Object(p).Attrs(ctx); !errors.Is(err, storage.ErrObjectNotExist) {
					return fmt.Errorf("object %s: %v, want deleted", p, err)
				}
			}
			return nil
		}
		if wait {
			emutest.Eventually(t, time.Minute, deleted)
		}
		for _, p := range []string{"/v1/media/" + objectPath, "/v1/media/" + objectPath + "?thumb=1", "/v1/media/" + thumb} {
			if got := ts.do(req{method: "GET", path: p, token: r.owner.Token}); got.Code != http.StatusNotFound {
				t.Errorf("GET %s = %s, want 404", p, got)
			}
		}
		if err := deleted(); err != nil {
			t.Error(err)
		}
	}

	t.Run("redaction", func(t *testing.T) {
		obj := photo(t, r.member, "redact-me")
		ts.call("POST", "/v1/rooms/"+r.ID+"/messages/redact-me/redact", r.owner.Token, map[string]string{"reason": "spam"}, http.StatusOK)
		gone(t, obj, true)
	})
	t.Run("admin redaction", func(t *testing.T) {
		obj := photo(t, r.member, "admin-redacts-me")
		ts.call("POST", "/admin/v1/rooms/"+r.ID+"/messages/admin-redacts-me/redact", root.Token, nil, http.StatusOK)
		gone(t, obj, true)
	})
	t.Run("erasure", func(t *testing.T) {
		obj := photo(t, r.member, "erased-sender")
		quotas, err := db.Collection(model.UploadQuotasCollection).Where("uid", "==", r.member.UID).Documents(ctx).GetAll()
		if err != nil || len(quotas) == 0 {
			t.Fatalf("quota documents of the user before erasure = %d, %v; want some", len(quotas), err)
		}
		ts.call("DELETE", "/admin/v1/users/"+r.member.UID, root.Token, map[string]string{"reason": "GDPR request"}, http.StatusOK)
		gone(t, obj, false) // the erasure removes media before it answers
		quotas, err = db.Collection(model.UploadQuotasCollection).Where("uid", "==", r.member.UID).Documents(ctx).GetAll()
		if err != nil || len(quotas) != 0 {
			t.Errorf("quota documents of the erased user = %d, %v; want 0", len(quotas), err)
		}
	})
}
