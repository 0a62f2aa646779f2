package media

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"cloud.google.com/go/storage"

	"github.com/hearth-chat/hearth/internal/model"
)

// fetch GETs a signed URL and returns the status and the body.
func fetch(t testing.TB, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// download asks for uid's signed download URL of objectPath and fetches it.
func (f *fixture) download(t testing.TB, uid, objectPath string) (string, int, []byte) {
	t.Helper()
	dl, err := f.svc.Issuer.Download(t.Context(), uid, objectPath, false)
	if err != nil {
		t.Fatalf("Download(%s) = %v", objectPath, err)
	}
	code, body := fetch(t, dl.URL)
	return dl.URL, code, body
}

// TestUploadURLReplay: once an upload was checked and is ready, PUTting other bytes
// of the same size to the same (still valid) signed URL is refused by the storage
// with 412 ConditionNotMet, and the download keeps serving the checked bytes, pinned
// to the checked generation (for a rewritten photo: Hearth's cleaned copy).
func TestUploadURLReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	photo := withEXIF(encodeJPEG(t, quadrantImage(64, 48)), exifTIFF(OrientRotate90CW, true))
	doc := []byte("%PDF-1.4\n% checked and harmless\n")
	cases := []struct {
		name, contentType string
		body              []byte
	}{
		{"document kept as uploaded", "application/pdf", doc},
		{"photo rewritten by Hearth", "image/jpeg", photo},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk, obj := f.upload(f.alice, c.contentType, c.body)
			msgID := "m" + strconv.Itoa(i)
			f.writeMessage(msgID, f.alice, tk, c.contentType, int64(len(c.body)))
			if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
				t.Fatalf("HandleFinalize() = %v", err)
			}
			rec := f.record(tk.ObjectPath)
			if rec.Status != model.MediaReady {
				t.Fatalf("record = %+v, want ready", rec)
			}
			checked := f.read(tk.ObjectPath)
			live := f.object(tk.ObjectPath)
			if rec.Generation != obj.Generation || rec.StoredGeneration != live.Generation {
				t.Errorf("record generations = %d stored %d, want checked %d stored %d (the final one)",
					rec.Generation, rec.StoredGeneration, obj.Generation, live.Generation)
			}

			// The replay: other bytes, same size, same URL and headers, URL still valid.
			evil := bytes.Repeat([]byte("E"), len(c.body))
			code, resp := put(t, tk.UploadURL, tk.Headers, evil)
			if code != http.StatusPreconditionFailed || !strings.Contains(resp, "<Code>ConditionNotMet</Code>") {
				t.Errorf("replayed PUT = %d %s, want 412 ConditionNotMet", code, resp)
			}
			url, code, got := f.download(t, f.bob, tk.ObjectPath)
			if code != http.StatusOK || !bytes.Equal(got, checked) {
				t.Errorf("download after the replay = %d, %d bytes (equal to the checked ones: %v), want 200 with the checked bytes",
					code, len(got), bytes.Equal(got, checked))
			}
			if g := mustURL(t, url).Query().Get("generation"); g != strconv.FormatInt(live.Generation, 10) {
				t.Errorf("download URL generation = %q, want pinned to %d", g, live.Generation)
			}
			if m := f.message(msgID).Media; m.Status != model.MediaReady {
				t.Errorf("message media = %+v, want still ready", *m)
			}
		})
	}
}

// TestOtherGenerationDeleted: a generation Hearth did not check (written around the
// single-use URL, for example by a URL issued before it was single-use) is deleted
// when its event arrives, the record keeps the checked result, and the pinned
// download never serves the unchecked bytes.
func TestOtherGenerationDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	doc := []byte("%PDF-1.4\n% the checked document\n")
	tk, obj := f.upload(f.alice, "application/pdf", doc)
	f.writeMessage("m", f.alice, tk, "application/pdf", int64(len(doc)))
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	before := f.record(tk.ObjectPath)
	dl, err := f.svc.Issuer.Download(ctx, f.bob, tk.ObjectPath, false)
	if err != nil {
		t.Fatal(err)
	}

	unchecked := []byte("%PDF-1.4\n% swapped in later!!!!\n")
	w := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).NewWriter(ctx)
	w.ContentType = "application/pdf"
	w.Write(unchecked)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	swapped := f.object(tk.ObjectPath)
	if code, got := fetch(t, dl.URL); code == http.StatusOK && bytes.Equal(got, unchecked) {
		t.Error("a download URL issued before the swap serves the unchecked bytes")
	}
	if err := f.svc.Processor.HandleFinalize(ctx, swapped); err != nil {
		t.Fatalf("HandleFinalize(other generation) = %v", err)
	}
	if _, err := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).Generation(swapped.Generation).Attrs(ctx); !errors.Is(err, storage.ErrObjectNotExist) {
		t.Errorf("unchecked generation %d: Attrs = %v, want deleted", swapped.Generation, err)
	}
	after := f.record(tk.ObjectPath)
	if after.Status != model.MediaReady || after.Generation != before.Generation || after.StoredGeneration != before.StoredGeneration ||
		!after.ProcessedAt.Equal(before.ProcessedAt) {
		t.Errorf("record after the other generation = %+v, want unchanged %+v", after, before)
	}
	if _, code, got := f.download(t, f.bob, tk.ObjectPath); code == http.StatusOK && bytes.Equal(got, unchecked) {
		t.Error("download serves the unchecked bytes")
	}
}

// postEvent posts a storage finalize event for obj to the HTTP door (as a forger
// who reached it would: binary-mode CloudEvent) and returns the status.
func postEvent(t testing.TB, url string, obj Object) int {
	t.Helper()
	data, _ := json.Marshal(map[string]string{
		"bucket": obj.Bucket, "name": obj.Name, "generation": strconv.FormatInt(obj.Generation, 10),
		"contentType": obj.ContentType, "size": strconv.FormatInt(obj.Size, 10), "md5Hash": obj.MD5Hash,
	})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Id", "forged")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Source", "//storage.googleapis.com/projects/_/buckets/"+obj.Bucket)
	req.Header.Set("Ce-Type", CloudEventFinalized)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// forged is a finalize event that lies about an upload: a generation far above any
// real one, and a type and size the record was not issued for.
func forged(f *fixture, objectPath string) Object {
	return Object{Bucket: f.bucket, Name: objectPath, Generation: 1 << 62, ContentType: "text/html",
		Size: 1, MD5Hash: "AAAAAAAAAAAAAAAAAAAAAA=="}
}

// TestForgedFinalizeEvent: the storage handler acts on the object it reads back from
// storage, never on what an event claims. A forged event with a huge generation
// cannot reject a real upload (before or after its check), and one for an object that
// does not exist changes nothing. At most it makes Hearth check the true object.
func TestForgedFinalizeEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	door := httptest.NewServer(f.svc.Processor.Handler())
	t.Cleanup(door.Close)
	photo := encodeJPEG(t, quadrantImage(40, 30))

	t.Run("after the check", func(t *testing.T) {
		tk, obj := f.upload(f.alice, "image/jpeg", photo)
		f.writeMessage("after", f.alice, tk, "image/jpeg", int64(len(photo)))
		if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
			t.Fatal(err)
		}
		before := f.record(tk.ObjectPath)
		if code := postEvent(t, door.URL, forged(f, tk.ObjectPath)); code != http.StatusNoContent {
			t.Errorf("POST forged event = %d, want 204", code)
		}
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.Generation != before.Generation {
			t.Errorf("record after a forged event = %s %q generation %d, want ready generation %d",
				rec.Status, rec.Reason, rec.Generation, before.Generation)
		}
		if m := f.message("after").Media; m.Status != model.MediaReady {
			t.Errorf("message after a forged event = %+v, want ready", *m)
		}
		if _, code, _ := f.download(t, f.bob, tk.ObjectPath); code != http.StatusOK {
			t.Errorf("download after a forged event = %d, want 200", code)
		}
	})

	t.Run("before the real event", func(t *testing.T) {
		tk, obj := f.upload(f.alice, "image/jpeg", photo)
		f.writeMessage("before", f.alice, tk, "image/jpeg", int64(len(photo)))
		if code := postEvent(t, door.URL, forged(f, tk.ObjectPath)); code != http.StatusNoContent {
			t.Errorf("POST forged event = %d, want 204", code)
		}
		// The forged event made Hearth check the real object: ready.
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.Generation != obj.Generation {
			t.Errorf("record after a forged event = %s %q generation %d, want ready for the real generation %d",
				rec.Status, rec.Reason, rec.Generation, obj.Generation)
		}
		if code := postEvent(t, door.URL, obj); code != http.StatusNoContent {
			t.Errorf("POST real event = %d, want 204", code)
		}
		if m := f.message("before").Media; m.Status != model.MediaReady || m.ThumbnailPath == "" {
			t.Errorf("message = %+v, want ready with thumbnail", *m)
		}
	})

	t.Run("object never uploaded", func(t *testing.T) {
		tk := f.issue(f.alice, "image/jpeg", int64(len(photo)))
		f.writeMessage("never", f.alice, tk, "image/jpeg", int64(len(photo)))
		before := f.record(tk.ObjectPath)
		if code := postEvent(t, door.URL, forged(f, tk.ObjectPath)); code != http.StatusNoContent {
			t.Errorf("POST forged event = %d, want 204", code)
		}
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaPending || rec.Generation != 0 || !rec.ProcessedAt.Equal(before.ProcessedAt) {
			t.Errorf("record after a forged event for no object = %+v, want untouched pending", rec)
		}
		if m := f.message("never").Media; m.Status != model.MediaPending {
			t.Errorf("message = %+v, want still pending", *m)
		}
		// The real upload still works and is checked as usual.
		if code, resp := put(t, tk.UploadURL, tk.Headers, photo); code != http.StatusOK {
			t.Fatalf("PUT = %d %s", code, resp)
		}
		if code := postEvent(t, door.URL, f.object(tk.ObjectPath)); code != http.StatusNoContent {
			t.Errorf("POST real event = %d, want 204", code)
		}
		if m := f.message("never").Media; m.Status != model.MediaReady {
			t.Errorf("message after the real upload = %+v, want ready", *m)
		}
	})
}

// TestForgedPubSubNotification: the Pub/Sub door (Service.Run's receiver) decodes a
// notification and hands it to the same handler, which re-reads the object: a forged
// notification, with or without a payload, cannot reject a real upload either.
func TestForgedPubSubNotification(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	doc := []byte("%PDF-1.4\n% a real document\n")
	tk, obj := f.upload(f.alice, "application/pdf", doc)
	f.writeMessage("m", f.alice, tk, "application/pdf", int64(len(doc)))
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	before := f.record(tk.ObjectPath)
	lie := forged(f, tk.ObjectPath)
	payload, _ := json.Marshal(map[string]string{
		"bucket": lie.Bucket, "name": lie.Name, "generation": strconv.FormatInt(lie.Generation, 10),
		"contentType": lie.ContentType, "size": strconv.FormatInt(lie.Size, 10), "md5Hash": lie.MD5Hash,
	})
	attrs := map[string]string{"eventType": PubSubFinalize, "bucketId": lie.Bucket, "objectId": lie.Name,
		"objectGeneration": strconv.FormatInt(lie.Generation, 10)}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"JSON_API_V1 payload", payload},
		{"no payload", nil},
	} {
		ev, err := DecodePubSub(c.data, attrs)
		if retry := f.svc.Processor.handleEvent(ctx, quietLogger(), ev, err); retry {
			t.Errorf("%s: handleEvent asked for a redelivery", c.name)
		}
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.Generation != before.Generation ||
			!rec.ProcessedAt.Equal(before.ProcessedAt) {
			t.Errorf("%s: record = %s %q generation %d, want untouched ready generation %d",
				c.name, rec.Status, rec.Reason, rec.Generation, before.Generation)
		}
	}
	if got := f.read(tk.ObjectPath); !bytes.Equal(got, doc) {
		t.Error("the checked object was changed or deleted")
	}
}

// TestUploadURLNeedsPrecondition: the precondition is a signed header, so a client
// cannot drop it (or change its value) to replace an object: the storage refuses the
// signature and stores nothing.
func TestUploadURLNeedsPrecondition(t *testing.T) {
	f := newFixture(t)
	body := bytes.Repeat([]byte("A"), 64)
	tk := f.issue(f.alice, "text/plain", int64(len(body)))
	var found bool
	for _, c := range []struct {
		name  string
		value string // "" drops the header
	}{{"dropped", ""}, {"changed", "1"}} {
		h := map[string]string{}
		for k, v := range tk.Headers {
			if strings.EqualFold(k, "x-goog-if-generation-match") {
				found = true
				if c.value == "" {
					continue
				}
				v = c.value
			}
			h[k] = v
		}
		if code, resp := put(t, tk.UploadURL, h, body); code != http.StatusForbidden || !strings.Contains(resp, "SignatureDoesNotMatch") {
			t.Errorf("PUT with the precondition %s = %d %s, want 403 SignatureDoesNotMatch", c.name, code, resp)
		}
	}
	if !found {
		t.Fatalf("upload headers %v carry no x-goog-if-generation-match", tk.Headers)
	}
	if _, err := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).Attrs(t.Context()); !errors.Is(err, storage.ErrObjectNotExist) {
		t.Fatalf("object after refused PUTs: %v, want none", err)
	}
}

// TestStaleRecordKeepsCleanedCopy: a redelivered event whose run read the upload
// record (still pending) just before the first run rewrote the photo, and read the
// object just after, finds Hearth's cleaned copy as the live object. It must know the
// copy for what it is: not check it as the upload (a size mismatch), delete it and
// overwrite the ready result with a rejection.
func TestStaleRecordKeepsCleanedCopy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	photo := withEXIF(encodeJPEG(t, quadrantImage(64, 48)), exifTIFF(OrientRotate90CW, true))
	tk, ev := f.upload(f.alice, "image/jpeg", photo)
	f.writeMessage("m1", f.alice, tk, "image/jpeg", int64(len(photo)))
	stale := f.record(tk.ObjectPath) // the redelivery's read: pending, no rewrite yet

	if err := f.svc.Processor.HandleFinalize(ctx, ev); err != nil {
		t.Fatalf("HandleFinalize() = %v", err)
	}
	ready := f.record(tk.ObjectPath)
	if ready.Status != model.MediaReady || ready.StoredGeneration == ev.Generation {
		t.Fatalf("record = %+v, want ready with a cleaned copy", ready)
	}
	cleaned := f.object(tk.ObjectPath) // the redelivery's read of the object

	p := f.svc.Processor
	ref, err := model.ParseObjectPath(tk.ObjectPath)
	if err != nil {
		t.Fatal(err)
	}
	recRef := f.fs.Doc(UploadPath(ref.ID))
	if err := p.process(ctx, p.log, recRef, stale, cleaned); err != nil {
		t.Fatalf("process(stale record) = %v", err)
	}
	if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.StoredGeneration != cleaned.Generation {
		t.Errorf("record after the redelivery = %+v, want still ready, stored generation %d", rec, cleaned.Generation)
	}
	if attrs, err := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).Attrs(ctx); err != nil || attrs.Generation != cleaned.Generation {
		t.Errorf("live object = %v, %v; want the cleaned copy, generation %d", attrs, err, cleaned.Generation)
	}
	if m := f.message("m1").Media; m.Status != model.MediaReady {
		t.Errorf("message media = %+v, want ready", *m)
	}
}
