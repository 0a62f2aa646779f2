package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/model"
)

var objectPathRE = regexp.MustCompile(`^media/[A-Za-z0-9-]+/alice/[0-9a-f]{32}\.(jpg|png|mp4|pdf|txt)$`)

func TestIssueUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seedRoom("archived-"+f.roomID, true, f.alice, f.bob)
	cases := []struct {
		name    string
		uid     string
		req     UploadRequest
		wantErr error // nil: success; errValidation: a *model.ValidationError
	}{
		{"jpeg", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 1234}, nil},
		{"member bob", f.bob, UploadRequest{RoomID: f.roomID, ContentType: "image/png", Size: 1}, nil},
		{"params and case", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "Image/JPEG; charset=binary", Size: 10}, nil},
		{"video at the limit", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "video/mp4", Size: model.MaxVideoSize}, nil},
		{"file name kept out of the path", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "application/pdf", Size: 10, FileName: "../../etc/passwd.pdf"}, nil},
		{"non-member", f.mallory, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 10}, ErrNotMember},
		{"banned", f.banned, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 10}, ErrBanned},
		{"no such room", f.alice, UploadRequest{RoomID: "nope-" + f.roomID, ContentType: "image/jpeg", Size: 10}, ErrRoomNotFound},
		{"archived room", f.alice, UploadRequest{RoomID: "archived-" + f.roomID, ContentType: "image/jpeg", Size: 10}, ErrRoomArchived},
		{"svg", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/svg+xml", Size: 10}, ErrTypeNotAllowed},
		{"html", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "text/html", Size: 10}, ErrTypeNotAllowed},
		{"exe", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "application/x-msdownload", Size: 10}, ErrTypeNotAllowed},
		{"no type", f.alice, UploadRequest{RoomID: f.roomID, Size: 10}, errValidation},
		{"oversize image", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: model.MaxImageSize + 1}, ErrTooLarge},
		{"oversize video", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "video/quicktime", Size: model.MaxVideoSize + 1}, ErrTooLarge},
		{"oversize file", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "text/plain", Size: model.MaxFileSize + 1}, ErrTooLarge},
		{"zero size", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 0}, errValidation},
		{"negative size", f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: -5}, errValidation},
		{"bad room id", f.alice, UploadRequest{RoomID: "../rooms", ContentType: "image/jpeg", Size: 10}, errValidation},
		{"empty room id", f.alice, UploadRequest{ContentType: "image/jpeg", Size: 10}, errValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := time.Now()
			tk, err := f.svc.Issuer.IssueUpload(t.Context(), c.uid, c.req)
			switch {
			case c.wantErr == errValidation:
				var ve *model.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("IssueUpload() = %v, want a *model.ValidationError", err)
				}
				return
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("IssueUpload() = %v, want %v", err, c.wantErr)
				}
				if c.wantErr == ErrTypeNotAllowed {
					var ve *model.ValidationError
					if !errors.As(err, &ve) || ve.Fields[0].Field != "contentType" {
						t.Errorf("IssueUpload() = %v, want it to be a contentType field error too", err)
					}
				}
				if c.wantErr == ErrTooLarge {
					var te *TooLargeError
					if !errors.As(err, &te) || te.Limit != model.MaxUploadSize(mustKind(t, c.req.ContentType)) {
						t.Errorf("IssueUpload() = %#v, want a *TooLargeError with the type's limit", err)
					}
				}
				return
			case err != nil:
				t.Fatalf("IssueUpload() = %v, want success", err)
			}
			if c.uid == f.alice && !objectPathRE.MatchString(tk.ObjectPath) {
				t.Errorf("ObjectPath = %q, want media/{room}/alice/{32 hex}.{ext}", tk.ObjectPath)
			}
			if !strings.HasPrefix(tk.ObjectPath, "media/"+f.roomID+"/"+c.uid+"/") {
				t.Errorf("ObjectPath = %q, want it under the room and uploader", tk.ObjectPath)
			}
			wantType := strings.ToLower(strings.TrimSpace(strings.Split(c.req.ContentType, ";")[0]))
			if tk.Method != http.MethodPut || tk.Headers["Content-Type"] != wantType ||
				tk.Headers[HeaderLengthRange] != fmt.Sprintf("%d,%d", c.req.Size, c.req.Size) {
				t.Errorf("ticket = %s %v, want PUT with Content-Type %s and range %d,%d", tk.Method, tk.Headers, wantType, c.req.Size, c.req.Size)
			}
			if d := tk.ExpiresAt.Sub(before); d < UploadURLTTL-time.Second || d > UploadURLTTL+time.Minute {
				t.Errorf("ExpiresAt = now + %s, want %s", d, UploadURLTTL)
			}
			u, err := url.Parse(tk.UploadURL)
			if err != nil || u.Host != f.srv.Addr() || u.Path != "/"+f.bucket+"/"+tk.ObjectPath ||
				!strings.HasPrefix(u.Query().Get("X-Goog-Expires"), "89") && u.Query().Get("X-Goog-Expires") != "900" ||
				u.Query().Get("X-Goog-SignedHeaders") != "content-type;host;x-goog-content-length-range;x-goog-if-generation-match" {
				t.Errorf("UploadURL = %s, want a V4 URL for %s on %s, 900 s, signed content-type, length range and generation precondition", tk.UploadURL, tk.ObjectPath, f.srv.Addr())
			}
			if tk.Headers[HeaderIfGenerationMatch] != "0" {
				t.Errorf("ticket headers = %v, want %s: 0", tk.Headers, HeaderIfGenerationMatch)
			}
			rec := f.record(tk.ObjectPath)
			if rec.Status != model.MediaPending || rec.UID != c.uid || rec.RoomID != f.roomID ||
				rec.ContentType != wantType || rec.Size != c.req.Size || rec.ObjectPath != tk.ObjectPath {
				t.Errorf("record = %+v, want a pending record of the request", rec)
			}
			if c.req.FileName != "" && rec.FileName != "passwd.pdf" {
				t.Errorf("record FileName = %q, want the cleaned last element passwd.pdf", rec.FileName)
			}
		})
	}
}

// errValidation stands for "a *model.ValidationError" in test tables.
var errValidation = errors.New("validation error")

func mustKind(t testing.TB, contentType string) model.MessageType {
	k, ok := model.MediaKindOf(contentType)
	if !ok {
		t.Fatalf("MediaKindOf(%s) not allowed", contentType)
	}
	return k
}

func TestIssueUploadAllowList(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.AllowedTypes = []string{"image/jpeg", "image/png"} })
	if _, err := f.svc.Issuer.IssueUpload(t.Context(), f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/png", Size: 10}); err != nil {
		t.Errorf("IssueUpload(png) = %v, want success", err)
	}
	_, err := f.svc.Issuer.IssueUpload(t.Context(), f.alice, UploadRequest{RoomID: f.roomID, ContentType: "video/mp4", Size: 10})
	if !errors.Is(err, ErrTypeNotAllowed) || !strings.Contains(err.Error(), "image/jpeg, image/png") {
		t.Errorf("IssueUpload(mp4) = %v, want ErrTypeNotAllowed listing the configured types", err)
	}
	if _, err := New(Config{Bucket: "b", AllowedTypes: []string{"image/svg+xml"}}, Deps{Firestore: f.fs, Storage: f.gcs}); err == nil {
		t.Error("New(AllowedTypes: svg) = nil error, want a config error")
	}
}

func TestIssueUploadQuota(t *testing.T) {
	t.Parallel()
	day := time.Now()
	clk := clock.NewFake(day)
	f := newFixture(t, func(c *Config) { c.DailyUploads = 3; c.DailyUploadBytes = 1000 })
	svc, err := New(f.cfg, Deps{Firestore: f.fs, Storage: f.gcs, Clock: clk, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(uid string, size int64) error {
		_, err := svc.Issuer.IssueUpload(t.Context(), uid, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: size})
		return err
	}
	for i := 0; i < 3; i++ {
		if err := issue(f.alice, 100); err != nil {
			t.Fatalf("upload %d = %v, want success", i+1, err)
		}
	}
	err = issue(f.alice, 100)
	var qe *QuotaError
	if !errors.Is(err, ErrQuotaExceeded) || !errors.As(err, &qe) || qe.What != "uploads" || qe.Limit != 3 {
		t.Fatalf("upload 4 = %v, want an uploads QuotaError", err)
	}
	midnight := time.Date(day.UTC().Year(), day.UTC().Month(), day.UTC().Day()+1, 0, 0, 0, 0, time.UTC)
	if !qe.ResetAt.Equal(midnight) || qe.RetryAfter <= 0 || qe.RetryAfter > 24*time.Hour {
		t.Errorf("QuotaError resets at %s after %s, want next UTC midnight %s", qe.ResetAt, qe.RetryAfter, midnight)
	}
	// Bytes: bob may send 1000 bytes a day.
	if err := issue(f.bob, 600); err != nil {
		t.Fatalf("bob 600 bytes = %v, want success", err)
	}
	if err := issue(f.bob, 401); !errors.As(err, &qe) || qe.What != "bytes" {
		t.Errorf("bob 401 more bytes = %v, want a bytes QuotaError", err)
	}
	if err := issue(f.bob, 400); err != nil {
		t.Errorf("bob 400 more bytes = %v, want success (exactly the limit)", err)
	}
	// A new UTC day starts afresh.
	clk.Set(midnight.Add(time.Minute))
	if err := issue(f.alice, 100); err != nil {
		t.Errorf("next day = %v, want success", err)
	}
}

// TestIssueUploadQuotaConcurrent: concurrent requests never overdraw the quota.
func TestIssueUploadQuotaConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.DailyUploads = 4 })
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Issuer.IssueUpload(t.Context(), f.alice, UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 10})
		}()
	}
	wg.Wait()
	ok, quota := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrQuotaExceeded):
			quota++
		default:
			t.Errorf("IssueUpload() = %v, want success or quota", err)
		}
	}
	if ok != 4 || quota != 6 {
		t.Errorf("10 concurrent requests: %d issued, %d over quota; want 4 and 6", ok, quota)
	}
}

// TestSignedUploadFlow uploads through the verifying local storage as a client would,
// and as a client might get it wrong.
func TestSignedUploadFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := encodeJPEG(t, quadrantImage(32, 32))
	other := f.issue(f.alice, "image/jpeg", int64(len(body))) // another object's path

	cases := []struct {
		name     string
		mutate   func(tk *UploadTicket, body *[]byte)
		advance  time.Duration
		wantCode int
		wantErr  string // GCS error code in the XML body
	}{
		{"right headers", func(*UploadTicket, *[]byte) {}, 0, http.StatusOK, ""},
		{"wrong content type", func(tk *UploadTicket, _ *[]byte) { tk.Headers["Content-Type"] = "image/png" }, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"no content type", func(tk *UploadTicket, _ *[]byte) { delete(tk.Headers, "Content-Type") }, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"bigger body", func(_ *UploadTicket, b *[]byte) { *b = append(*b, 0) }, 0, http.StatusBadRequest, "EntityTooLarge"},
		{"smaller body", func(_ *UploadTicket, b *[]byte) { *b = (*b)[:len(*b)-1] }, 0, http.StatusBadRequest, "EntityTooSmall"},
		{"range header widened", func(tk *UploadTicket, _ *[]byte) { tk.Headers[HeaderLengthRange] = "0,99999999" }, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"range header dropped", func(tk *UploadTicket, _ *[]byte) { delete(tk.Headers, HeaderLengthRange) }, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"precondition dropped", func(tk *UploadTicket, _ *[]byte) { delete(tk.Headers, HeaderIfGenerationMatch) }, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"precondition changed", func(tk *UploadTicket, _ *[]byte) { tk.Headers[HeaderIfGenerationMatch] = "1" }, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"different path", func(tk *UploadTicket, _ *[]byte) {
			tk.UploadURL = strings.Replace(tk.UploadURL, tk.ObjectPath, other.ObjectPath, 1)
		}, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"tampered signature", func(tk *UploadTicket, _ *[]byte) {
			u, _ := url.Parse(tk.UploadURL)
			q := u.Query()
			sig := []byte(q.Get("X-Goog-Signature"))
			if sig[10] == '0' {
				sig[10] = '1'
			} else {
				sig[10] = '0'
			}
			q.Set("X-Goog-Signature", string(sig))
			u.RawQuery = q.Encode()
			tk.UploadURL = u.String()
		}, 0, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"expired", func(*UploadTicket, *[]byte) {}, UploadURLTTL + time.Minute, http.StatusBadRequest, "ExpiredToken"},
		{"just before expiry", func(*UploadTicket, *[]byte) {}, UploadURLTTL - time.Minute, http.StatusOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := f.issue(f.alice, "image/jpeg", int64(len(body)))
			b := bytes.Clone(body)
			c.mutate(&tk, &b)
			f.clock.Advance(c.advance)
			code, resp := put(t, tk.UploadURL, tk.Headers, b)
			f.clock.Advance(-c.advance)
			if code != c.wantCode || !strings.Contains(resp, c.wantErr) {
				t.Fatalf("PUT = %d %s, want %d %s", code, resp, c.wantCode, c.wantErr)
			}
			_, err := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).Attrs(t.Context())
			stored := err == nil
			if stored != (c.wantCode == http.StatusOK) {
				t.Errorf("object stored = %v (%v), want %v", stored, err, c.wantCode == http.StatusOK)
			}
			if stored && !bytes.Equal(f.read(tk.ObjectPath), body) {
				t.Error("stored bytes differ from the upload")
			}
		})
	}
	if _, err := f.gcs.Bucket(f.bucket).Object(other.ObjectPath).Attrs(t.Context()); !errors.Is(err, storage.ErrObjectNotExist) {
		t.Errorf("the other path = %v, want never written", err)
	}
}

// TestSuiteConfig runs the configuration `hearth serve` uses under `hearth dev`:
// the env tags of Config (configFromEnv) from the suite's environment (HEARTH_STORAGE_SIGNER, STORAGE_EMULATOR_HOST,
// HEARTH_STORAGE_BUCKET) and a storage client from STORAGE_EMULATOR_HOST.
func TestSuiteConfig(t *testing.T) {
	t.Parallel()
	env := emutest.New(t)
	cfg := configFromEnv(t)
	var err error
	if cfg.URLHost != env.StorageHost || !cfg.URLInsecure || cfg.SignerFile == "" || cfg.Bucket != env.Bucket || !cfg.PubSubEnabled {
		t.Fatalf("configFromEnv() = %+v, want the suite's storage, signer, bucket and Pub/Sub", cfg)
	}
	f := &fixture{t: t, env: env, fs: env.Firestore(), gcs: env.Storage(), bucket: env.Bucket}
	f.svc, err = New(cfg, Deps{Firestore: f.fs, Storage: f.gcs, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f.alice, f.bob, f.banned = "alice", "bob", "eve"
	f.roomID = "suite-" + strings.TrimPrefix(env.ProjectID, "demo-t")
	f.seedRoom(f.roomID, false, f.alice, f.bob)
	body := encodeJPEG(t, quadrantImage(16, 16))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	dl, err := f.svc.Issuer.Download(t.Context(), f.bob, tk.ObjectPath, false)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(dl.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET signed download = %d %s, want 200", resp.StatusCode, b)
	}
}

func TestDownload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	img := encodeJPEG(t, quadrantImage(400, 300))
	ready, obj := f.upload(f.alice, "image/jpeg", img)
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	pending, _ := f.upload(f.alice, "image/jpeg", img) // never processed
	bad, badObj := f.upload(f.alice, "image/jpeg", encodePNG(t, quadrantImage(8, 8)))
	if err := f.svc.Processor.HandleFinalize(ctx, badObj); err != nil {
		t.Fatal(err)
	}
	doc := []byte("%PDF-1.4\n% a tiny document\n")
	pdfTk, err := f.svc.Issuer.IssueUpload(ctx, f.alice, UploadRequest{RoomID: f.roomID, ContentType: "application/pdf",
		Size: int64(len(doc)), FileName: "Q3 report – final.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if code, resp := put(t, pdfTk.UploadURL, pdfTk.Headers, doc); code != http.StatusOK {
		t.Fatalf("PUT pdf = %d %s", code, resp)
	}
	if err := f.svc.Processor.HandleFinalize(ctx, f.object(pdfTk.ObjectPath)); err != nil {
		t.Fatal(err)
	}
	thumbPath := model.ThumbObjectPath(f.roomID, f.alice, strings.TrimSuffix(ready.ObjectPath[strings.LastIndex(ready.ObjectPath, "/")+1:], ".jpg"))

	cases := []struct {
		name     string
		uid      string
		path     string
		thumb    bool
		wantErr  error
		wantType string
	}{
		{"owner", f.alice, ready.ObjectPath, false, nil, "image/jpeg"},
		{"member", f.bob, ready.ObjectPath, false, nil, "image/jpeg"},
		{"leading slash", f.bob, "/" + ready.ObjectPath, false, nil, "image/jpeg"},
		{"thumb query", f.bob, ready.ObjectPath, true, nil, "image/jpeg"},
		{"thumb path", f.bob, thumbPath, false, nil, "image/jpeg"},
		{"pdf", f.bob, pdfTk.ObjectPath, false, nil, "application/pdf"},
		{"pdf has no thumbnail", f.bob, pdfTk.ObjectPath, true, ErrMediaNotFound, ""},
		{"non-member", f.mallory, ready.ObjectPath, false, ErrNotMember, ""},
		{"non-member thumb", f.mallory, thumbPath, false, ErrNotMember, ""},
		{"banned", f.banned, ready.ObjectPath, false, ErrBanned, ""},
		{"pending", f.bob, pending.ObjectPath, false, ErrMediaNotReady, ""},
		{"rejected", f.bob, bad.ObjectPath, false, ErrMediaNotFound, ""},
		{"unknown id", f.bob, model.MediaObjectPath(f.roomID, f.alice, "0123456789abcdef0123456789abcdef", "jpg"), false, ErrMediaNotFound, ""},
		{"wrong uploader in path", f.bob, strings.Replace(ready.ObjectPath, "/alice/", "/bob/", 1), false, ErrMediaNotFound, ""},
		{"wrong extension", f.bob, strings.TrimSuffix(ready.ObjectPath, ".jpg") + ".png", false, ErrMediaNotFound, ""},
		{"other room", f.bob, strings.Replace(ready.ObjectPath, f.roomID, "elsewhere", 1), false, ErrRoomNotFound, ""},
		{"traversal", f.bob, "media/" + f.roomID + "/../x.jpg", false, errPath, ""},
		{"not media", f.bob, "rooms/" + f.roomID + "/x/y.jpg", false, errPath, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dl, err := f.svc.Issuer.Download(ctx, c.uid, c.path, c.thumb)
			if c.wantErr == errPath {
				var pe *model.PathError
				if !errors.As(err, &pe) {
					t.Fatalf("Download() = %v, want a *model.PathError", err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Download() = %v, want %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			if dl.CacheControl != "private, max-age=300" {
				t.Errorf("CacheControl = %q, want private, max-age=300", dl.CacheControl)
			}
			resp, err := http.Get(dl.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != c.wantType {
				t.Fatalf("GET = %d %s (%s), want 200 %s", resp.StatusCode, resp.Header.Get("Content-Type"), b, c.wantType)
			}
			if c.wantType == "application/pdf" {
				if !bytes.Equal(b, doc) {
					t.Error("pdf bytes differ")
				}
				if q := mustURL(t, dl.URL).Query().Get("response-content-disposition"); !strings.Contains(q, `filename*=UTF-8''Q3%20report%20%E2%80%93%20final.pdf`) {
					t.Errorf("response-content-disposition = %q, want the UTF-8 file name", q)
				}
			}
		})
	}
	t.Run("expired download URL", func(t *testing.T) {
		dl, err := f.svc.Issuer.Download(ctx, f.bob, ready.ObjectPath, false)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(DefaultDownloadURLTTL + time.Second)
		defer f.clock.Advance(-DefaultDownloadURLTTL - time.Second)
		resp, err := http.Get(dl.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET expired = %d, want 400", resp.StatusCode)
		}
	})
}

var errPath = errors.New("path error")

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
