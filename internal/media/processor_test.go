package media

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// TestFinalizeImage: a rotated photo with GPS is stored upright without metadata, gets
// a thumbnail, and its message turns ready with the upright size.
func TestFinalizeImage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	photo := withEXIF(encodeJPEG(t, quadrantImage(800, 400)), exifTIFF(OrientRotate90CW, true))
	tk, obj := f.upload(f.alice, "image/jpeg", photo)
	f.writeMessage("m1", f.alice, tk, "image/jpeg", int64(len(photo)))

	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatalf("HandleFinalize() = %v", err)
	}
	m := f.message("m1")
	ref, _ := model.ParseObjectPath(tk.ObjectPath)
	wantThumb := model.ThumbObjectPath(f.roomID, f.alice, ref.ID)
	if m.Media.Status != model.MediaReady || m.Media.Width != 400 || m.Media.Height != 800 || m.Media.ThumbnailPath != wantThumb {
		t.Errorf("message media = %+v, want ready 400×800 with thumbnail %s", *m.Media, wantThumb)
	}
	if m.Media.Size != int64(len(photo)) || m.Media.Path != tk.ObjectPath {
		t.Errorf("message media path/size changed: %+v", *m.Media)
	}

	stored := f.read(tk.ObjectPath)
	if bytes.Contains(stored, []byte("HEARTH-GPS")) || jpegExif(stored) != nil {
		t.Error("stored photo still carries EXIF/GPS")
	}
	img, err := jpeg.Decode(bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	if got := quadrantNames(img); got != wantQuadrants[OrientRotate90CW] {
		t.Errorf("stored photo quadrants = %v, want upright %v", got, wantQuadrants[OrientRotate90CW])
	}
	attrs, err := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).Attrs(ctx)
	if err != nil || attrs.ContentType != "image/jpeg" || attrs.CacheControl != storedCacheControl {
		t.Errorf("stored attrs = %+v, %v; want image/jpeg with Cache-Control %s", attrs, err, storedCacheControl)
	}
	thumb, err := jpeg.Decode(bytes.NewReader(f.read(wantThumb)))
	if err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	if b := thumb.Bounds(); b.Dx() != 160 || b.Dy() != 320 {
		t.Errorf("thumbnail size = %v, want 160×320", b)
	}
	if got := quadrantNames(thumb); got != wantQuadrants[OrientRotate90CW] {
		t.Errorf("thumbnail quadrants = %v, want upright %v", got, wantQuadrants[OrientRotate90CW])
	}
	rec := f.record(tk.ObjectPath)
	if rec.Status != model.MediaReady || rec.Generation != obj.Generation || rec.SniffedType != "image/jpeg" ||
		rec.StoredSize != int64(len(stored)) || rec.RewriteMD5 == "" {
		t.Errorf("record = %+v, want ready for generation %d", rec, obj.Generation)
	}

	// Redeliveries: the same event, and the event of Hearth's own rewrite, change nothing.
	for _, ev := range []Object{obj, f.object(tk.ObjectPath)} {
		if err := f.svc.Processor.HandleFinalize(ctx, ev); err != nil {
			t.Errorf("HandleFinalize(redelivery #%d) = %v", ev.Generation, err)
		}
	}
	if again := f.record(tk.ObjectPath); !again.ProcessedAt.Equal(rec.ProcessedAt) {
		t.Error("a redelivered event was processed again")
	}
	if !bytes.Equal(f.read(tk.ObjectPath), stored) {
		t.Error("a redelivered event rewrote the object")
	}
}

// TestFinalizeRejects: uploads whose bytes are not what was declared are deleted and
// their messages marked rejected.
func TestFinalizeRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	long := strings.Repeat("plain text line\n", 100)
	cases := []struct {
		name, contentType string
		body              []byte
		reason            RejectReason
	}{
		{"png declared as jpeg", "image/jpeg", encodePNG(t, quadrantImage(16, 16)), RejectTypeMismatch},
		{"text declared as image", "image/png", []byte("I am not a picture, just some words.\n"), RejectTypeMismatch},
		{"html declared as text", "text/plain", []byte("<html><body><script>alert(1)</script></body></html>"), RejectTypeMismatch},
		{"binary late in a text file", "text/plain", []byte(long + "\x00\x01\x02binary"), RejectTypeMismatch},
		{"latin-1 text", "text/plain", []byte("caf\xe9 cr\xe8me"), RejectTypeMismatch},
		{"mp3 declared as mp4", "video/mp4", []byte("ID3\x03\x00\x00\x00\x00\x00\x00 tags and frames"), RejectTypeMismatch},
		{"pdf declared as jpeg", "image/jpeg", []byte("%PDF-1.4\n"), RejectTypeMismatch},
		{"decompression bomb", "image/png", zeroPNG(t, 8000, 8000, 0, 8), RejectTooManyPixels},
		{"truncated jpeg", "image/jpeg", encodeJPEG(t, quadrantImage(64, 64))[:300], RejectMalformed},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk, obj := f.upload(f.alice, c.contentType, c.body)
			msgID := fmt.Sprintf("m%d", i)
			f.writeMessage(msgID, f.alice, tk, c.contentType, int64(len(c.body)))
			if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
				t.Fatalf("HandleFinalize() = %v", err)
			}
			if got := f.message(msgID).Media; got.Status != model.MediaRejected || got.Reason != string(c.reason) {
				t.Errorf("message media = %s %q, want rejected %q (the message shows why)", got.Status, got.Reason, c.reason)
			}
			if rec := f.record(tk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(c.reason) {
				t.Errorf("record = %s %q, want rejected %q", rec.Status, rec.Reason, c.reason)
			}
			if f.read(tk.ObjectPath) != nil {
				t.Error("rejected object still stored")
			}
		})
	}
}

// TestFinalizeBombMemory sends a decompression bomb (a 64 MB image in a few hundred
// KB of PNG) through the whole handler. It is not parallel, so the allocation count
// is this handler's alone: refusing from the header must stay far below the decoded
// size (it covers reading the object and the Firestore and storage calls).
func TestFinalizeBombMemory(t *testing.T) {
	f := newFixture(t)
	bomb := zeroPNG(t, 8000, 8000, 0, 8)
	tk, obj := f.upload(f.alice, "image/png", bomb)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
		t.Fatalf("HandleFinalize() = %v", err)
	}
	runtime.ReadMemStats(&after)
	if rec := f.record(tk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(RejectTooManyPixels) {
		t.Errorf("record = %s %s, want rejected %s", rec.Status, rec.Reason, RejectTooManyPixels)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("refusing the bomb allocated %d KB", alloc>>10)
	if alloc > 16<<20 {
		t.Errorf("refusing the bomb allocated %d MB, want < 16 MB (decoded it would be 64 MB)", alloc>>20)
	}
}

// TestFinalizeAccepts: every kind of upload that is what it claims becomes ready.
func TestFinalizeAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name, contentType string
		body              []byte
		thumb             bool
		w, h              int
	}{
		{"png", "image/png", encodePNG(t, quadrantImage(500, 100)), true, 500, 100},
		{"gif", "image/gif", gifWithMetadata(t, []byte("comment")), true, 64, 64},
		{"webp", "image/webp", webpWithMetadata(t, []byte("x"), []byte("y")), true, 1, 1},
		{"heic", "image/heic", readFixture(t, "p3-gps.heic"), true, 64, 48},
		{"mp4", "video/mp4", ftyp("isom", "isom", "mp41"), false, 0, 0},
		{"mov", "video/quicktime", ftyp("qt  ", "qt  "), false, 0, 0},
		{"m4a", "audio/mp4", ftyp("M4A ", "M4A ", "isom"), false, 0, 0},
		{"aac", "audio/aac", []byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, false, 0, 0},
		{"ogg", "audio/ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), false, 0, 0},
		{"mp3", "audio/mpeg", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\xFF\xFB\x90\x64"), false, 0, 0},
		{"pdf", "application/pdf", []byte("%PDF-1.7\n1 0 obj\n"), false, 0, 0},
		{"text", "text/plain", []byte(strings.Repeat("grüße ✓ ", 10000)), false, 0, 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk, obj := f.upload(f.alice, c.contentType, c.body)
			msgID := fmt.Sprintf("ok%d", i)
			f.writeMessage(msgID, f.alice, tk, c.contentType, int64(len(c.body)))
			if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
				t.Fatalf("HandleFinalize() = %v", err)
			}
			m := f.message(msgID).Media
			if m.Status != model.MediaReady || m.Width != c.w || m.Height != c.h || (m.ThumbnailPath != "") != c.thumb {
				t.Errorf("media = %+v, want ready %d×%d, thumbnail %v", *m, c.w, c.h, c.thumb)
			}
			if f.read(tk.ObjectPath) == nil {
				t.Error("object gone")
			}
		})
	}
}

// TestFinalizeSizeMismatch: an object whose size differs from the declared one (here
// written around the signed URL, as only a broken or hostile writer could) is rejected.
func TestFinalizeSizeMismatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := encodeJPEG(t, quadrantImage(32, 32))
	tk := f.issue(f.alice, "image/jpeg", int64(len(body))+10)
	w := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).NewWriter(t.Context())
	w.ContentType = "image/jpeg"
	w.Write(body)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Processor.HandleFinalize(t.Context(), f.object(tk.ObjectPath)); err != nil {
		t.Fatal(err)
	}
	if rec := f.record(tk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(RejectSizeMismatch) {
		t.Errorf("record = %s %s, want rejected %s", rec.Status, rec.Reason, RejectSizeMismatch)
	}
}

// TestFinalizeLeavesOthersAlone: objects Hearth did not issue, thumbnails and other
// buckets are not touched.
func TestFinalizeLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	path := model.MediaObjectPath(f.roomID, f.alice, "0123456789abcdef0123456789abcdef", "jpg")
	w := f.gcs.Bucket(f.bucket).Object(path).NewWriter(ctx)
	w.ContentType = "image/jpeg"
	w.Write([]byte("not even a jpeg"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	obj := f.object(path)
	for _, o := range []Object{
		obj,
		{Bucket: f.bucket, Name: model.ThumbObjectPath(f.roomID, f.alice, "x"), Generation: 1},
		{Bucket: f.bucket, Name: "elsewhere/file.txt", Generation: 1},
		{Bucket: "other-bucket", Name: path, Generation: 1},
	} {
		if err := f.svc.Processor.HandleFinalize(ctx, o); err != nil {
			t.Errorf("HandleFinalize(%s/%s) = %v, want nil", o.Bucket, o.Name, err)
		}
	}
	if f.read(path) == nil {
		t.Error("an object without upload record was deleted")
	}
}

// TestReupload: the signed URL stays valid for 15 minutes but creates its object only
// once. After a rejection (the object is deleted) the client can PUT again through the
// same URL and the new bytes are checked from scratch; once they are ready, the URL
// is spent (412). Older events arriving late change nothing.
func TestReupload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	good := encodeJPEG(t, quadrantImage(64, 64))
	bad := bytes.Repeat([]byte("x"), len(good))
	tk, first := f.upload(f.alice, "image/jpeg", bad)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(good)))
	if err := f.svc.Processor.HandleFinalize(ctx, first); err != nil {
		t.Fatal(err)
	}
	if m := f.message("m").Media; m.Status != model.MediaRejected || f.read(tk.ObjectPath) != nil {
		t.Fatalf("after a bad upload media = %+v, want rejected and the object deleted", *m)
	}
	if code, resp := put(t, tk.UploadURL, tk.Headers, good); code != http.StatusOK {
		t.Fatalf("second PUT after the rejection = %d %s, want 200", code, resp)
	}
	second := f.object(tk.ObjectPath)
	if err := f.svc.Processor.HandleFinalize(ctx, second); err != nil {
		t.Fatal(err)
	}
	if m := f.message("m").Media; m.Status != model.MediaReady || m.ThumbnailPath == "" {
		t.Errorf("after a good re-upload media = %+v, want ready with thumbnail", *m)
	}
	// The first event again, late: stale, changes nothing.
	if err := f.svc.Processor.HandleFinalize(ctx, first); err != nil {
		t.Fatal(err)
	}
	if got := f.message("m").Media.Status; got != model.MediaReady {
		t.Errorf("after a stale event status = %s, want ready", got)
	}
	if code, resp := put(t, tk.UploadURL, tk.Headers, bad); code != http.StatusPreconditionFailed {
		t.Errorf("third PUT over the ready upload = %d %s, want 412", code, resp)
	}
	if m := f.message("m").Media; m.Status != model.MediaReady || m.ThumbnailPath == "" {
		t.Errorf("after the refused PUT media = %+v, want ready with thumbnail", *m)
	}
}

func idOf(objectPath string) string {
	ref, _ := model.ParseObjectPath(objectPath)
	return ref.ID
}

// TestMessageAfterProcessing covers the race the other way round: the upload is
// checked before the client writes its message. The message-created trigger
// (HandleMessageEvent, fed by the Firestore emulator) applies the stored result.
func TestMessageAfterProcessing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	events := f.env.Events(firestoreevent.TypeCreated, model.MessagePattern)

	okBody := encodeJPEG(t, quadrantImage(300, 200))
	okTk, okObj := f.upload(f.alice, "image/jpeg", okBody)
	badTk, badObj := f.upload(f.alice, "image/jpeg", []byte("not a jpeg at all"))
	pendingTk, _ := f.upload(f.alice, "image/jpeg", okBody)
	for _, o := range []Object{okObj, badObj} {
		if err := f.svc.Processor.HandleFinalize(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	f.writeMessage("late-ok", f.alice, okTk, "image/jpeg", int64(len(okBody)))
	f.writeMessage("late-bad", f.alice, badTk, "image/jpeg", 17)
	f.writeMessage("still-pending", f.alice, pendingTk, "image/jpeg", int64(len(okBody)))
	f.writeMessage("forged-sender", f.bob, okTk, "image/jpeg", int64(len(okBody))) // bob cites alice's object

	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < 4 {
		select {
		case ev := <-events:
			if err := f.svc.Processor.HandleMessageEvent(ctx, ev); err != nil {
				t.Errorf("HandleMessageEvent(%s) = %v", ev.Document, err)
			}
			seen[ev.Document[strings.LastIndex(ev.Document, "/")+1:]] = true
		case <-deadline:
			t.Fatalf("trigger events seen: %v, want 4", seen)
		}
	}
	want := map[string]model.MediaStatus{
		"late-ok": model.MediaReady, "late-bad": model.MediaRejected,
		"still-pending": model.MediaPending, "forged-sender": model.MediaPending,
	}
	for id, st := range want {
		if got := f.message(id).Media.Status; got != st {
			t.Errorf("message %s status = %s, want %s", id, got, st)
		}
	}
	if m := f.message("late-ok").Media; m.Width != 300 || m.Height != 200 || m.ThumbnailPath == "" {
		t.Errorf("late-ok media = %+v, want 300×200 with thumbnail", *m)
	}
}

// TestFinalizeSkipsDeletedMessage: a message deleted (tombstoned) before the check
// ends is not given its media back.
func TestFinalizeSkipsDeletedMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	body := encodeJPEG(t, quadrantImage(32, 32))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("gone", f.alice, tk, "image/jpeg", int64(len(body)))
	tomb := model.Message{SenderID: f.alice, Type: model.MessageImage, CreatedAt: time.Now(), DeletedAt: time.Now(), DeletedBy: f.alice}
	if _, err := f.fs.Doc(model.MessagePath(f.roomID, "gone")).Set(ctx, tomb); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if m := f.message("gone"); m.Media != nil {
		t.Errorf("deleted message got media back: %+v", *m.Media)
	}
}

// TestFinalizeRecoversAfterRewrite: a run that rewrote the object and then failed
// before recording the result is finished by the redelivered event.
func TestFinalizeRecoversAfterRewrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	body := withEXIF(encodeJPEG(t, quadrantImage(64, 32)), exifTIFF(OrientRotate90CW, true))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))
	rec := f.record(tk.ObjectPath)
	out, err := processImage("image/jpeg", body)
	if err != nil {
		t.Fatal(err)
	}
	// The crashed run: the rewrite happened, nothing was recorded afterwards.
	if _, err := f.svc.Processor.rewrite(ctx, obj, rec, out.Stored); err != nil {
		t.Fatal(err)
	}
	// The event of the rewrite is skipped; the redelivered original finishes.
	if err := f.svc.Processor.HandleFinalize(ctx, f.object(tk.ObjectPath)); err != nil {
		t.Fatal(err)
	}
	if got := f.message("m").Media.Status; got != model.MediaPending {
		t.Fatalf("after the rewrite's own event status = %s, want still pending", got)
	}
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if m := f.message("m").Media; m.Status != model.MediaReady || m.Width != 32 || m.Height != 64 || m.ThumbnailPath == "" {
		t.Errorf("media = %+v, want ready 32×64 with thumbnail", *m)
	}
}

// TestSupersededGeneration: when the object is replaced while a check runs (not
// through the single-use URL, which refuses: by a writer with bucket credentials),
// the older generation is neither rewritten nor deleted over the newer one.
func TestSupersededGeneration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	body := encodeJPEG(t, quadrantImage(32, 32))
	tk, old := f.upload(f.alice, "image/jpeg", body)
	newer := bytes.Clone(body)
	newer[len(newer)-3] ^= 0xFF // same size, different bytes
	if code, resp := put(t, tk.UploadURL, tk.Headers, newer); code != http.StatusPreconditionFailed {
		t.Fatalf("second PUT through the URL = %d %s, want 412", code, resp)
	}
	w := f.gcs.Bucket(f.bucket).Object(tk.ObjectPath).NewWriter(ctx)
	w.ContentType = "image/jpeg"
	w.Write(newer)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rec := f.record(tk.ObjectPath)
	if _, err := f.svc.Processor.rewrite(ctx, old, rec, []byte("cleaned")); err != errSuperseded {
		t.Errorf("rewrite(old generation) = %v, want errSuperseded", err)
	}
	if err := f.svc.Processor.reject(ctx, f.svc.Processor.log, old, f.fs.Doc(UploadPath(idOf(tk.ObjectPath))), rec,
		&rejectError{reason: RejectTypeMismatch, err: errSuperseded}); err != nil {
		t.Errorf("reject(old generation) = %v, want nil", err)
	}
	if !bytes.Equal(f.read(tk.ObjectPath), newer) {
		t.Error("the newer upload was overwritten or deleted")
	}
	// The old event itself: its generation is gone; what is checked is the object as
	// stored, the newer generation.
	if err := f.svc.Processor.HandleFinalize(ctx, old); err != nil {
		t.Fatal(err)
	}
	if rec := f.record(tk.ObjectPath); rec.Status == model.MediaPending || rec.Generation == old.Generation {
		t.Errorf("record after the superseded event = %s for generation %d, want the newer generation %s checked",
			rec.Status, rec.Generation, "(not the old one)")
	}
}
