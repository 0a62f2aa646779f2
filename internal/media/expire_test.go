package media

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// newClockFixture is a fixture whose Service (issuer, processor, Run) runs on clk. The
// local storage keeps its own real-time clock, so signed URLs stay usable however far
// the test moves clk.
func newClockFixture(t *testing.T, clk *clock.Fake, opts ...fixtureOpt) *fixture {
	t.Helper()
	f := newFixture(t, opts...)
	svc, err := New(f.cfg, Deps{Firestore: f.fs, Storage: f.gcs, Clock: clk, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// startClock is where the fake clocks of these tests start: now, so that the local
// storage (on real time) accepts the URLs issued at it, in whole seconds, so that
// times survive Firestore's microseconds unchanged.
func startClock() *clock.Fake { return clock.NewFake(time.Now().Truncate(time.Second)) }

// sweep runs one expiry sweep and fails the test on error.
func (f *fixture) sweep() int {
	f.t.Helper()
	n, err := f.svc.Processor.ExpireUploads(f.t.Context())
	if err != nil {
		f.t.Fatalf("ExpireUploads() = %d, %v", n, err)
	}
	return n
}

// updateTime returns when the document at path was last written.
func (f *fixture) updateTime(path string) time.Time {
	f.t.Helper()
	snap, err := f.fs.Doc(path).Get(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return snap.UpdateTime
}

// updateTimes returns when each document of paths was last written.
func (f *fixture) updateTimes(paths []string) map[string]time.Time {
	f.t.Helper()
	at := make(map[string]time.Time, len(paths))
	for _, p := range paths {
		at[p] = f.updateTime(p)
	}
	return at
}

// checkUnwritten fails the test for every document written since before was taken.
func (f *fixture) checkUnwritten(what string, before map[string]time.Time) {
	f.t.Helper()
	for p, at := range before {
		if !f.updateTime(p).Equal(at) {
			f.t.Errorf("%s wrote %s", what, p)
		}
	}
}

// finalizedPhoto uploads a w×h JPEG as alice, writes message id with it and runs its
// finalize event: an upload that is ready.
func (f *fixture) finalizedPhoto(id string, w, h int) UploadTicket {
	f.t.Helper()
	body := encodeJPEG(f.t, quadrantImage(w, h))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage(id, f.alice, tk, "image/jpeg", int64(len(body)))
	if err := f.svc.Processor.HandleFinalize(f.t.Context(), obj); err != nil {
		f.t.Fatal(err)
	}
	return tk
}

// TestExpireNeverUploaded: an upload whose bytes never arrive is left alone while its
// URL is valid and through the grace period, then rejected as never uploaded, and so
// is its message. A second sweep changes nothing.
func TestExpireNeverUploaded(t *testing.T) {
	t.Parallel()
	clk := startClock()
	const grace = 3 * time.Minute
	f := newClockFixture(t, clk, func(c *Config) { c.ExpireGrace = grace })
	tk := f.issue(f.alice, "image/jpeg", 1234)
	f.writeMessage("m", f.alice, tk, "image/jpeg", 1234)
	expiry := f.record(tk.ObjectPath).ExpiresAt

	for _, at := range []time.Time{clk.Now(), expiry.Add(time.Second), expiry.Add(grace)} {
		clk.Set(at)
		if n := f.sweep(); n != 0 {
			t.Errorf("sweep %s after the URL expired settled %d, want 0 (within the grace)", at.Sub(expiry), n)
		}
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaPending {
			t.Fatalf("%s after expiry: record = %s %q, want pending", at.Sub(expiry), rec.Status, rec.Reason)
		}
		if st := f.message("m").Media.Status; st != model.MediaPending {
			t.Fatalf("%s after expiry: message status = %s, want pending", at.Sub(expiry), st)
		}
	}
	// An upload issued now expires later: the sweep below must leave it pending.
	fresh := f.issue(f.alice, "image/jpeg", 99)
	f.writeMessage("fresh", f.alice, fresh, "image/jpeg", 99)

	clk.Advance(time.Second)
	if n := f.sweep(); n != 1 {
		t.Errorf("sweep past the grace settled %d, want 1", n)
	}
	rec := f.record(tk.ObjectPath)
	if rec.Status != model.MediaRejected || rec.Reason != string(RejectNeverUploaded) || !rec.ProcessedAt.Equal(clk.Now()) ||
		rec.Generation != 0 {
		t.Errorf("record = %s %q processed %s generation %d, want rejected %q at %s, generation 0",
			rec.Status, rec.Reason, rec.ProcessedAt, rec.Generation, RejectNeverUploaded, clk.Now())
	}
	if m := f.message("m").Media; m.Status != model.MediaRejected || m.Path != tk.ObjectPath {
		t.Errorf("message media = %+v, want rejected", *m)
	}
	if st := f.message("fresh").Media.Status; st != model.MediaPending {
		t.Errorf("message of an unexpired upload = %s, want pending", st)
	}
	if st := f.record(fresh.ObjectPath).Status; st != model.MediaPending {
		t.Errorf("unexpired upload = %s, want pending", st)
	}

	// Idempotent: a sweep with nothing to do writes nothing, and one that settles
	// another upload leaves this one alone.
	recPath, msgPath := UploadPath(idOf(tk.ObjectPath)), model.MessagePath(f.roomID, "m")
	recAt, msgAt := f.updateTime(recPath), f.updateTime(msgPath)
	clk.Advance(time.Minute)
	if n := f.sweep(); n != 0 {
		t.Errorf("second sweep settled %d, want 0", n)
	}
	clk.Advance(time.Hour)
	if n := f.sweep(); n != 1 {
		t.Errorf("sweep an hour later settled %d, want 1 (the second upload)", n)
	}
	if st := f.message("fresh").Media.Status; st != model.MediaRejected {
		t.Errorf("message of the second upload, an hour later = %s, want rejected", st)
	}
	if !f.updateTime(recPath).Equal(recAt) || !f.updateTime(msgPath).Equal(msgAt) {
		t.Error("a later sweep wrote the first record or its message again")
	}
}

// TestExpireLostEvent: objects that were uploaded but whose finalize event never came
// are processed by the sweep exactly as the event would have been: a photo is turned
// upright, stripped and thumbnailed, a document is accepted, a fake is rejected and
// deleted. A second sweep changes nothing.
func TestExpireLostEvent(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	updates := f.env.Events(firestoreevent.TypeUpdated, model.MessagePattern)
	photo := withEXIF(encodeJPEG(t, quadrantImage(800, 400)), exifTIFF(OrientRotate90CW, true))
	photoTk, _ := f.upload(f.alice, "image/jpeg", photo)
	f.writeMessage("photo", f.alice, photoTk, "image/jpeg", int64(len(photo)))
	pdf := []byte("%PDF-1.7\n1 0 obj\n")
	pdfTk, _ := f.upload(f.alice, "application/pdf", pdf)
	f.writeMessage("pdf", f.alice, pdfTk, "application/pdf", int64(len(pdf)))
	fake := []byte("not a jpeg at all")
	fakeTk, _ := f.upload(f.alice, "image/jpeg", fake)
	f.writeMessage("fake", f.alice, fakeTk, "image/jpeg", int64(len(fake)))

	clk.Advance(UploadURLTTL + DefaultExpireGrace)
	if n := f.sweep(); n != 0 {
		t.Errorf("sweep at the end of the grace settled %d, want 0", n)
	}
	if st := f.message("photo").Media.Status; st != model.MediaPending {
		t.Fatalf("photo within the grace = %s, want pending", st)
	}
	clk.Advance(time.Second)
	if n := f.sweep(); n != 3 {
		t.Errorf("sweep past the grace settled %d, want 3", n)
	}

	// The accepted uploads go straight to ready, as with their event: the sweep does
	// not reject them first (its last look would mend that, but clients would see it).
	ready := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for !ready["photo"] || !ready["pdf"] {
		select {
		case ev := <-updates:
			id := ev.Document[strings.LastIndex(ev.Document, "/")+1:]
			var msg model.Message
			if err := firestoreevent.DataTo(ev.Value, &msg); err != nil || msg.Media == nil {
				t.Fatalf("update of %s: %v", ev.Document, err)
			}
			switch msg.Media.Status {
			case model.MediaReady:
				ready[id] = true
			case model.MediaRejected:
				if id != "fake" {
					t.Errorf("message %s went through %s", id, msg.Media.Status)
				}
			}
		case <-deadline:
			t.Fatalf("ready updates seen: %v, want photo and pdf", ready)
		}
	}

	m := f.message("photo").Media
	wantThumb := model.ThumbObjectPath(f.roomID, f.alice, idOf(photoTk.ObjectPath))
	if m.Status != model.MediaReady || m.Width != 400 || m.Height != 800 || m.ThumbnailPath != wantThumb {
		t.Errorf("photo media = %+v, want ready 400×800 with thumbnail %s", *m, wantThumb)
	}
	if f.read(wantThumb) == nil {
		t.Error("no thumbnail stored")
	}
	if bytes.Contains(f.read(photoTk.ObjectPath), []byte("HEARTH-GPS")) {
		t.Error("stored photo still carries its GPS position")
	}
	if rec := f.record(photoTk.ObjectPath); rec.Status != model.MediaReady || rec.Generation == 0 || !rec.ProcessedAt.Equal(clk.Now()) {
		t.Errorf("photo record = %+v, want ready at %s", rec, clk.Now())
	}
	if m := f.message("pdf").Media; m.Status != model.MediaReady || m.ThumbnailPath != "" {
		t.Errorf("pdf media = %+v, want ready without thumbnail", *m)
	}
	if rec := f.record(fakeTk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(RejectTypeMismatch) {
		t.Errorf("fake record = %s %q, want rejected %q (checked, not expired)", rec.Status, rec.Reason, RejectTypeMismatch)
	}
	if st := f.message("fake").Media.Status; st != model.MediaRejected {
		t.Errorf("fake message = %s, want rejected", st)
	}
	if f.read(fakeTk.ObjectPath) != nil {
		t.Error("rejected object still stored")
	}

	var paths []string
	for _, tk := range []UploadTicket{photoTk, pdfTk, fakeTk} {
		paths = append(paths, UploadPath(idOf(tk.ObjectPath)))
	}
	for _, id := range []string{"photo", "pdf", "fake"} {
		paths = append(paths, model.MessagePath(f.roomID, id))
	}
	before := f.updateTimes(paths)
	stored := f.read(photoTk.ObjectPath)
	clk.Advance(time.Hour)
	if n := f.sweep(); n != 0 {
		t.Errorf("second sweep settled %d, want 0", n)
	}
	f.checkUnwritten("second sweep", before)
	if !bytes.Equal(f.read(photoTk.ObjectPath), stored) {
		t.Error("second sweep rewrote the photo")
	}
}

// TestExpireLeavesSettledAlone: uploads already ready or rejected are not touched,
// however long ago their URL expired.
func TestExpireLeavesSettledAlone(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	ctx := t.Context()
	goodTk := f.finalizedPhoto("good", 64, 32)
	badTk, badObj := f.upload(f.alice, "image/png", []byte("no png here"))
	f.writeMessage("bad", f.alice, badTk, "image/png", 11)
	if err := f.svc.Processor.HandleFinalize(ctx, badObj); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range []string{goodTk.ObjectPath, badTk.ObjectPath} {
		paths = append(paths, UploadPath(idOf(p)))
	}
	paths = append(paths, model.MessagePath(f.roomID, "good"), model.MessagePath(f.roomID, "bad"))
	before := f.updateTimes(paths)
	stored := f.read(goodTk.ObjectPath)

	clk.Advance(24 * time.Hour)
	if n := f.sweep(); n != 0 {
		t.Errorf("sweep settled %d, want 0", n)
	}
	f.checkUnwritten("sweep", before)
	if rec := f.record(goodTk.ObjectPath); rec.Status != model.MediaReady {
		t.Errorf("ready record = %s %q, want ready", rec.Status, rec.Reason)
	}
	if rec := f.record(badTk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(RejectTypeMismatch) {
		t.Errorf("rejected record = %s %q, want rejected %q", rec.Status, rec.Reason, RejectTypeMismatch)
	}
	if !bytes.Equal(f.read(goodTk.ObjectPath), stored) {
		t.Error("the ready object was changed")
	}
}

// TestExpireGuardedWrite: the rejection is written only while the record is pending,
// so a result recorded between the sweep's query and its write (here: the finalize
// event of a late upload) stands.
func TestExpireGuardedWrite(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	ctx := t.Context()
	tk := f.finalizedPhoto("m", 32, 32)
	clk.Advance(24 * time.Hour)
	ref := f.fs.Doc(UploadPath(idOf(tk.ObjectPath)))
	if _, stored, err := f.svc.Processor.markNeverUploaded(ctx, ref); err != nil || stored {
		t.Errorf("markNeverUploaded(ready upload) = stored %v, %v; want not stored", stored, err)
	}
	if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.Reason != "" {
		t.Errorf("record = %s %q, want ready", rec.Status, rec.Reason)
	}
	if st := f.message("m").Media.Status; st != model.MediaReady {
		t.Errorf("message = %s, want ready", st)
	}
}

// TestExpireStaleResultNotApplied: the sweep's message update that comes after a late
// upload's event already recorded "ready" and updated the message (the sweep read the
// record as pending, then the event won) leaves the message ready.
func TestExpireStaleResultNotApplied(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	ctx := t.Context()
	tk := f.finalizedPhoto("m", 32, 32)
	stale := f.record(tk.ObjectPath)
	stale.Status, stale.Reason, stale.Generation = model.MediaRejected, string(RejectNeverUploaded), 0
	if err := f.svc.Processor.applyToMessages(ctx, stale); err != nil {
		t.Fatalf("applyToMessages(stale rejection) = %v", err)
	}
	if st := f.message("m").Media.Status; st != model.MediaReady {
		t.Errorf("message after a stale rejection = %s, want ready", st)
	}
}

// TestExpireLateUploadWins: an object that arrives after its upload was rejected as
// never uploaded (a PUT that began just before the URL expired, its event overdue) is
// processed when its event comes, and the message turns ready.
func TestExpireLateUploadWins(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	body := encodeJPEG(t, quadrantImage(48, 24))
	tk := f.issue(f.alice, "image/jpeg", int64(len(body)))
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))
	clk.Advance(UploadURLTTL + DefaultExpireGrace + time.Second)
	if n := f.sweep(); n != 1 {
		t.Fatalf("sweep settled %d, want 1", n)
	}
	if st := f.message("m").Media.Status; st != model.MediaRejected {
		t.Fatalf("message = %s, want rejected", st)
	}
	// The local storage runs on real time, so the URL still works: the late PUT.
	if code, resp := put(t, tk.UploadURL, tk.Headers, body); code != http.StatusOK {
		t.Fatalf("late PUT = %d %s", code, resp)
	}
	if err := f.svc.Processor.HandleFinalize(t.Context(), f.object(tk.ObjectPath)); err != nil {
		t.Fatal(err)
	}
	if m := f.message("m").Media; m.Status != model.MediaReady || m.Width != 48 || m.ThumbnailPath == "" {
		t.Errorf("message media = %+v, want ready 48×24 with thumbnail", *m)
	}
	if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.Reason != "" {
		t.Errorf("record = %s %q, want ready", rec.Status, rec.Reason)
	}
	if n := f.sweep(); n != 0 {
		t.Errorf("sweep after the late upload settled %d, want 0", n)
	}
}

// TestExpireHealsMessages: when the sweep finds the object of an upload that already
// has a result (the race in which a finalize event settles it while the sweep
// rejects it), it brings the messages back in line with the record rather than
// leaving them as its own rejection made them. The live object of a processed photo is
// Hearth's cleaned copy, whose event HandleFinalize skips, so this needs its own path.
func TestExpireHealsMessages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	body := withEXIF(encodeJPEG(t, quadrantImage(64, 32)), exifTIFF(0, true))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	// The sweep's rejection landed on the message after the event's result.
	msg := f.fs.Doc(model.MessagePath(f.roomID, "m"))
	if _, err := msg.Update(ctx, []firestore.Update{{Path: "media.status", Value: string(model.MediaRejected)},
		{Path: "media.thumbnailPath", Value: firestore.Delete}}); err != nil {
		t.Fatal(err)
	}
	p := f.svc.Processor
	if err := p.processLost(ctx, p.log, f.fs.Doc(UploadPath(idOf(tk.ObjectPath))), f.object(tk.ObjectPath)); err != nil {
		t.Fatal(err)
	}
	if m := f.message("m").Media; m.Status != model.MediaReady || m.ThumbnailPath == "" {
		t.Errorf("message media = %+v, want ready with thumbnail again", *m)
	}
}

// TestExpireFinishesCrashedRewrite: a run that rewrote the photo and failed before
// recording the result, whose event was never redelivered, is finished by the sweep.
func TestExpireFinishesCrashedRewrite(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	ctx := t.Context()
	body := withEXIF(encodeJPEG(t, quadrantImage(64, 32)), exifTIFF(OrientRotate90CW, true))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))
	out, err := processImage("image/jpeg", body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Processor.rewrite(ctx, obj, f.record(tk.ObjectPath), out.Stored); err != nil {
		t.Fatal(err)
	}
	clk.Advance(UploadURLTTL + DefaultExpireGrace + time.Second)
	if n := f.sweep(); n != 1 {
		t.Errorf("sweep settled %d, want 1", n)
	}
	if m := f.message("m").Media; m.Status != model.MediaReady || m.Width != 32 || m.Height != 64 || m.ThumbnailPath == "" {
		t.Errorf("media = %+v, want ready 32×64 with thumbnail", *m)
	}
	if f.read(tk.ObjectPath) == nil {
		t.Error("the cleaned copy was deleted")
	}
}

// TestExpirePages: a sweep goes through more expired uploads than one query returns.
func TestExpirePages(t *testing.T) {
	t.Parallel()
	clk := startClock()
	f := newClockFixture(t, clk)
	f.svc.Processor.expirePage = 2
	var tks []UploadTicket
	for i := range 5 {
		tk := f.issue(f.alice, "application/pdf", 10)
		f.writeMessage(fmt.Sprintf("m%d", i), f.alice, tk, "application/pdf", 10)
		tks = append(tks, tk)
		if i == 2 { // one expiry time twice, across a page boundary
			tks = append(tks, f.issue(f.bob, "application/pdf", 10))
		}
		clk.Advance(time.Second)
	}
	clk.Advance(UploadURLTTL + DefaultExpireGrace)
	if n := f.sweep(); n != len(tks) {
		t.Errorf("sweep settled %d, want %d", n, len(tks))
	}
	for _, tk := range tks {
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(RejectNeverUploaded) {
			t.Errorf("%s = %s %q, want rejected %q", tk.ObjectPath, rec.Status, rec.Reason, RejectNeverUploaded)
		}
	}
	for i := range 5 {
		if st := f.message(fmt.Sprintf("m%d", i)).Media.Status; st != model.MediaRejected {
			t.Errorf("message m%d = %s, want rejected", i, st)
		}
	}
}

// TestRunSweepsExpiredUploads: Run sweeps every ExpireInterval of its clock (here
// without Pub/Sub, as in production with Eventarc).
func TestRunSweepsExpiredUploads(t *testing.T) {
	t.Parallel()
	clk := startClock()
	const every = 2 * time.Minute
	f := newClockFixture(t, clk, func(c *Config) { c.ExpireInterval = every })
	tk := f.issue(f.alice, "video/mp4", 4096)
	f.writeMessage("m", f.alice, tk, "video/mp4", 4096)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	// tick moves the clock by d once Run waits for its next sweep, and returns once
	// that sweep is over (Run waits again).
	tick := func(d time.Duration) {
		t.Helper()
		if err := clk.WaitForWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(d)
		if err := clk.WaitForWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	tick(every) // a sweep while the URL is valid
	if st := f.message("m").Media.Status; st != model.MediaPending {
		t.Fatalf("after the first sweep status = %s, want pending", st)
	}
	tick(UploadURLTTL + DefaultExpireGrace - every) // to the end of the grace
	if st := f.message("m").Media.Status; st != model.MediaPending {
		t.Fatalf("at the end of the grace status = %s, want pending", st)
	}
	tick(every)
	if st := f.message("m").Media.Status; st != model.MediaRejected {
		t.Errorf("after the grace status = %s, want rejected", st)
	}
	if rec := f.record(tk.ObjectPath); rec.Reason != string(RejectNeverUploaded) {
		t.Errorf("record reason = %q, want %q", rec.Reason, RejectNeverUploaded)
	}
	stopRun(t, cancel, done)
}
