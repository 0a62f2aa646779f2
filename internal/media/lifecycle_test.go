package media

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// removalTrigger routes the project's message-written events to
// HandleMessageWritten, as `hearth serve` registers it, and records each handled
// event with the handler's error.
func (f *fixture) removalTrigger() *triggerLog {
	f.t.Helper()
	events := f.env.Events(firestoreevent.TypeWritten, model.MessagePattern)
	l := &triggerLog{}
	go func() {
		for {
			select {
			case ev := <-events:
				err := f.svc.Processor.HandleMessageWritten(f.t.Context(), ev)
				l.mu.Lock()
				l.all = append(l.all, handled{doc: ev.Document, err: err, ev: ev})
				l.mu.Unlock()
			case <-f.t.Context().Done():
				return
			}
		}
	}()
	return l
}

// triggerLog is what removalTrigger handled so far.
type triggerLog struct {
	mu  sync.Mutex
	all []handled
}

func (l *triggerLog) handled() []handled {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

type handled struct {
	doc string
	err error
	ev  *firestoreevent.Event
}

// waitRemoved waits until the upload of objectPath is marked removed and its object
// and thumbnail are deleted, failing the test on a handler error or after a minute.
func (f *fixture) waitRemoved(t testing.TB, l *triggerLog, objectPath string) {
	t.Helper()
	emutest.Eventually(t, time.Minute, func() error {
		for _, h := range l.handled() {
			if h.err != nil {
				t.Fatalf("HandleMessageWritten(%s) = %v", h.doc, h.err)
			}
		}
		if st := f.record(objectPath).Status; st != UploadRemoved {
			return fmt.Errorf("upload %s is %s, want %s", objectPath, st, UploadRemoved)
		}
		// The record is marked first, the objects deleted next.
		ref, _ := model.ParseObjectPath(objectPath)
		for _, p := range []string{objectPath, model.ThumbObjectPath(ref.RoomID, ref.UID, ref.ID)} {
			if f.read(p) != nil {
				return fmt.Errorf("upload %s removed, object %s still stored", objectPath, p)
			}
		}
		return nil
	})
}

// loadRules loads the rendered Firestore rules into the test's project, so that end
// users write as apps do.
func (f *fixture) loadRules() {
	f.t.Helper()
	b, err := os.ReadFile("../../rules/firestore.rules")
	if err != nil {
		f.t.Fatalf("read rules: %v", err)
	}
	f.env.LoadRules(string(b))
}

// readyPhoto uploads a photo as alice, writes message id with it and processes it:
// the upload is ready, with a thumbnail.
func (f *fixture) readyPhoto(id string) UploadTicket {
	f.t.Helper()
	tk := f.finalizedPhoto(id, 400, 300)
	rec := f.record(tk.ObjectPath)
	if rec.Status != model.MediaReady || rec.ThumbnailPath == "" || f.read(rec.ThumbnailPath) == nil {
		f.t.Fatalf("upload %s = %s thumbnail %q, want ready with a thumbnail", tk.ObjectPath, rec.Status, rec.ThumbnailPath)
	}
	if st := f.message(id).Media.Status; st != model.MediaReady {
		f.t.Fatalf("message %s media = %s, want ready", id, st)
	}
	return tk
}

// checkGone fails the test unless the upload of tk is removed, its object and
// thumbnail are gone and GET /v1/media (Download) answers not found for both.
func (f *fixture) checkGone(tk UploadTicket) {
	f.t.Helper()
	ctx := f.t.Context()
	rec := f.record(tk.ObjectPath)
	if rec.Status != UploadRemoved || rec.RemovedAt.IsZero() || rec.RemovedFor == "" {
		f.t.Errorf("record = %s removedAt %s for %q, want %s with time and cause", rec.Status, rec.RemovedAt, rec.RemovedFor, UploadRemoved)
	}
	ref, _ := model.ParseObjectPath(tk.ObjectPath)
	thumb := model.ThumbObjectPath(ref.RoomID, ref.UID, ref.ID)
	for _, p := range []string{tk.ObjectPath, thumb} {
		if b := f.read(p); b != nil {
			f.t.Errorf("object %s still stored (%d bytes)", p, len(b))
		}
	}
	for _, c := range []struct {
		path  string
		thumb bool
	}{{tk.ObjectPath, false}, {tk.ObjectPath, true}, {thumb, false}} {
		for _, uid := range []string{f.alice, f.bob} {
			if _, err := f.svc.Issuer.Download(ctx, uid, c.path, c.thumb); !errors.Is(err, ErrMediaNotFound) {
				f.t.Errorf("Download(%s, %s, thumb=%v) = %v, want ErrMediaNotFound", uid, c.path, c.thumb, err)
			}
		}
	}
}

// TestMessageRemovalRemovesMedia: whichever door takes a message's media away — the
// sender's soft delete written under the rules, a moderator's redaction (the API's
// write), a hard delete by a trusted writer — the message-written trigger removes the
// upload: record removed, object and thumbnail deleted, downloads not found.
func TestMessageRemovalRemovesMedia(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.loadRules()
	ctx := t.Context()
	results := f.removalTrigger()

	doors := []struct {
		name   string
		remove func(ref *firestore.DocumentRef) error
	}{
		{"soft delete by the sender", func(ref *firestore.DocumentRef) error {
			alice := f.env.UserClient(f.alice, nil)
			_, err := alice.Doc(model.MessagePath(f.roomID, ref.ID)).Update(ctx, []firestore.Update{
				{Path: "text", Value: ""},
				{Path: "mentions", Value: firestore.Delete},
				{Path: "media", Value: firestore.Delete},
				{Path: "deletedAt", Value: firestore.ServerTimestamp},
				{Path: "deletedBy", Value: f.alice},
			})
			return err
		}},
		{"redaction", func(ref *firestore.DocumentRef) error {
			_, err := ref.Update(ctx, []firestore.Update{
				{Path: "text", Value: ""},
				{Path: "mentions", Value: firestore.Delete},
				{Path: "media", Value: firestore.Delete},
				{Path: "deletedAt", Value: time.Now()},
				{Path: "deletedBy", Value: f.bob},
			})
			return err
		}},
		{"hard delete", func(ref *firestore.DocumentRef) error {
			_, err := ref.Delete(ctx)
			return err
		}},
	}
	tickets := make([]UploadTicket, len(doors))
	for i, d := range doors {
		tickets[i] = f.readyPhoto(fmt.Sprintf("m%d", i))
		if _, err := f.svc.Issuer.Download(ctx, f.bob, tickets[i].ObjectPath, false); err != nil {
			t.Fatalf("%s: Download before = %v", d.name, err)
		}
	}
	for i, d := range doors {
		if err := d.remove(f.fs.Doc(model.MessagePath(f.roomID, fmt.Sprintf("m%d", i)))); err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
	}
	for i, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			f.waitRemoved(t, results, tickets[i].ObjectPath)
			f.checkGone(tickets[i])
		})
	}
}

// TestRemovalKeepsCitedMedia: an upload that a live message of its sender still cites
// stays; it goes with the last one. A stale event (the message is live again in
// Firestore's eyes) and an event naming another room's object remove nothing.
func TestRemovalKeepsCitedMedia(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	tk := f.readyPhoto("first")
	body := f.read(tk.ObjectPath)
	f.writeMessage("second", f.alice, tk, "image/jpeg", int64(len(body)))

	// A stale event for a live message: nothing happens.
	if removed, err := f.svc.Processor.RemoveForMessage(ctx, f.roomID, "first", tk.ObjectPath); removed || err != nil {
		t.Fatalf("RemoveForMessage(live message) = %v, %v; want false, nil", removed, err)
	}
	// Another room's door cannot name this object.
	if removed, err := f.svc.Processor.RemoveForMessage(ctx, "other-room", "first", tk.ObjectPath); removed || err != nil {
		t.Fatalf("RemoveForMessage(other room) = %v, %v; want false, nil", removed, err)
	}
	if _, err := f.fs.Doc(model.MessagePath(f.roomID, "first")).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if removed, err := f.svc.Processor.RemoveForMessage(ctx, f.roomID, "first", tk.ObjectPath); removed || err != nil {
		t.Fatalf("RemoveForMessage(still cited by second) = %v, %v; want false, nil", removed, err)
	}
	if st := f.record(tk.ObjectPath).Status; st != model.MediaReady || f.read(tk.ObjectPath) == nil {
		t.Fatalf("upload cited by a live message = %s (object present: %v), want ready and kept", st, f.read(tk.ObjectPath) != nil)
	}
	if _, err := f.svc.Issuer.Download(ctx, f.bob, tk.ObjectPath, false); err != nil {
		t.Errorf("Download of media still cited = %v", err)
	}
	// A message of someone else citing the object does not keep it (the rules refuse
	// such a message; a trusted writer's mistake must not pin the media).
	f.writeMessage("forged", f.bob, tk, "image/jpeg", int64(len(body)))
	if _, err := f.fs.Doc(model.MessagePath(f.roomID, "second")).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if removed, err := f.svc.Processor.RemoveForMessage(ctx, f.roomID, "second", tk.ObjectPath); !removed || err != nil {
		t.Fatalf("RemoveForMessage(last citing message) = %v, %v; want true, nil", removed, err)
	}
	f.checkGone(tk)
	// Again: idempotent, nothing to mark.
	if removed, err := f.svc.Processor.RemoveForMessage(ctx, f.roomID, "second", tk.ObjectPath); removed || err != nil {
		t.Fatalf("RemoveForMessage again = %v, %v; want false, nil", removed, err)
	}
}

// TestRemovedStaysRemoved: duplicate and reordered events after a removal — the same
// delete event again, the message's older events, the upload's late finalize event,
// and an object PUT again through the still valid upload URL — never bring the media
// back.
func TestRemovedStaysRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	results := f.removalTrigger()
	body := encodeJPEG(t, quadrantImage(400, 300))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	f.writeMessage("m", f.alice, tk, "image/jpeg", int64(len(body)))
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if _, err := f.fs.Doc(model.MessagePath(f.roomID, "m")).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitRemoved(t, results, tk.ObjectPath)
	f.checkGone(tk)

	// Every event the message had, again, in any order: the delete, the update to
	// ready, the create.
	var seen []*firestoreevent.Event
	emutest.Eventually(t, time.Minute, func() error {
		seen = seen[:0]
		deleted := false
		for _, h := range results.handled() {
			seen = append(seen, h.ev)
			deleted = deleted || h.ev.Change() == firestoreevent.KindDeleted
		}
		if !deleted {
			return fmt.Errorf("no delete event among %d events", len(seen))
		}
		return nil
	})
	for i := len(seen) - 1; i >= 0; i-- {
		if err := f.svc.Processor.HandleMessageWritten(ctx, seen[i]); err != nil {
			t.Errorf("HandleMessageWritten(replayed %s) = %v", seen[i].Change(), err)
		}
		if err := f.svc.Processor.HandleMessageEvent(ctx, seen[i]); err != nil {
			t.Errorf("HandleMessageEvent(replayed %s) = %v", seen[i].Change(), err)
		}
	}
	// The upload's finalize event, late.
	if err := f.svc.Processor.HandleFinalize(ctx, obj); err != nil {
		t.Errorf("HandleFinalize(late) = %v", err)
	}
	f.checkGone(tk)

	// The upload URL is valid for a while yet: an object PUT through it now is
	// deleted by its finalize event, and the upload stays removed.
	if code, resp := put(t, tk.UploadURL, tk.Headers, body); code != http.StatusOK {
		t.Logf("PUT after removal = %d %s (the storage refuses it: nothing to clean up)", code, resp)
	} else {
		again := f.object(tk.ObjectPath)
		if err := f.svc.Processor.HandleFinalize(ctx, again); err != nil {
			t.Errorf("HandleFinalize(object PUT after removal) = %v", err)
		}
	}
	f.checkGone(tk)
	// A message written now citing the removed upload shows it as unavailable.
	f.writeMessage("late", f.alice, tk, "image/jpeg", int64(len(body)))
	if err := f.svc.Processor.SyncMessage(ctx, f.roomID, "late", f.message("late")); err != nil {
		t.Fatal(err)
	}
	if m := f.message("late").Media; m.Status != model.MediaRejected || m.Reason != ReasonRemoved {
		t.Errorf("message citing a removed upload = %s %q, want %s %q", m.Status, m.Reason, model.MediaRejected, ReasonRemoved)
	}
}

// TestRemovedWhileChecking: an upload removed while its check runs keeps its removal;
// what the check wrote (thumbnail, cleaned copy) is deleted when it tries to record
// its result.
func TestRemovedWhileChecking(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.svc.Processor
	body := withEXIF(encodeJPEG(t, quadrantImage(400, 300)), exifTIFF(6, true))
	tk, obj := f.upload(f.alice, "image/jpeg", body)
	recRef := f.fs.Doc(UploadPath(idOf(tk.ObjectPath)))
	rec := f.record(tk.ObjectPath)

	res, err := p.check(ctx, obj, rec, false)
	if err != nil {
		t.Fatalf("check = %v", err)
	}
	if res.thumbnailPath == "" || f.read(res.thumbnailPath) == nil {
		t.Fatalf("check wrote no thumbnail: %+v", res)
	}
	// The removal lands between the check and its commit (here without deleting, as
	// if the check's writes came after the removal's deletes).
	if _, err := recRef.Update(ctx, []firestore.Update{{Path: "status", Value: string(UploadRemoved)}}); err != nil {
		t.Fatal(err)
	}
	if err := p.settle(ctx, quietLogger(), f.object(tk.ObjectPath), recRef, rec, res, nil); err != nil {
		t.Fatalf("settle = %v", err)
	}
	if st := f.record(tk.ObjectPath).Status; st != UploadRemoved {
		t.Errorf("record after a check finished late = %s, want %s", st, UploadRemoved)
	}
	for _, path := range []string{tk.ObjectPath, res.thumbnailPath} {
		if b := f.read(path); b != nil {
			t.Errorf("%s still stored after the late check", path)
		}
	}
}

// TestExpirySweepSkipsRemoved: the pending-upload sweep does not bring back an upload
// removed while it was pending (never arrived, or arrived with its event lost).
func TestExpirySweepSkipsRemoved(t *testing.T) {
	t.Parallel()
	clk := startClock()
	const grace = time.Minute
	f := newClockFixture(t, clk, func(c *Config) { c.ExpireGrace = grace })
	ctx := t.Context()

	never := f.issue(f.alice, "image/jpeg", 1234)
	f.writeMessage("never", f.alice, never, "image/jpeg", 1234)
	body := encodeJPEG(t, quadrantImage(64, 64))
	lost, _ := f.upload(f.alice, "image/jpeg", body) // stored; its event never comes
	f.writeMessage("lost", f.alice, lost, "image/jpeg", int64(len(body)))
	for _, id := range []string{"never", "lost"} {
		ref := f.fs.Doc(model.MessagePath(f.roomID, id))
		if _, err := ref.Delete(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for id, tk := range map[string]UploadTicket{"never": never, "lost": lost} {
		if removed, err := f.svc.Processor.RemoveForMessage(ctx, f.roomID, id, tk.ObjectPath); !removed || err != nil {
			t.Fatalf("RemoveForMessage(%s) = %v, %v; want true, nil", id, removed, err)
		}
	}
	clk.Set(f.record(never.ObjectPath).ExpiresAt.Add(grace + time.Hour))
	if n := f.sweep(); n != 0 {
		t.Errorf("sweep settled %d removed uploads, want 0", n)
	}
	for _, tk := range []UploadTicket{never, lost} {
		if rec := f.record(tk.ObjectPath); rec.Status != UploadRemoved || rec.Reason != "" {
			t.Errorf("%s after the sweep = %s %q, want %s", tk.ObjectPath, rec.Status, rec.Reason, UploadRemoved)
		}
		if f.read(tk.ObjectPath) != nil {
			t.Errorf("%s stored after the sweep", tk.ObjectPath)
		}
	}
}

// TestEraseUserMedia: erasing a user removes every upload of theirs (ready, pending)
// and deletes their quota documents; another user's (even one whose uid starts with
// the erased one's) are untouched. A second erasure finds nothing left.
func TestEraseUserMedia(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ready := f.readyPhoto("photo")
	pending := f.issue(f.alice, "video/mp4", 5000)
	bobs := f.issue(f.bob, "image/png", 100)
	lookalike := "alice_x"
	if _, err := f.fs.Doc(QuotaPath(lookalike, time.Now())).Set(ctx, Quota{UID: lookalike, Day: "20260101", Count: 1}); err != nil {
		t.Fatal(err)
	}

	res, err := f.svc.Issuer.EraseUser(ctx, f.alice)
	if err != nil {
		t.Fatalf("EraseUser = %v", err)
	}
	if res.UploadsRemoved != 2 || res.QuotasDeleted != 1 {
		t.Errorf("EraseUser = %+v, want 2 uploads removed, 1 quota deleted", res)
	}
	f.checkGone(ready)
	if rec := f.record(pending.ObjectPath); rec.Status != UploadRemoved || rec.RemovedFor != RemovedForUserErased {
		t.Errorf("pending upload = %s for %q, want removed for %s", rec.Status, rec.RemovedFor, RemovedForUserErased)
	}
	quotas := func(uid string) int {
		snaps, err := f.fs.Collection(model.UploadQuotasCollection).Where("uid", "==", uid).Documents(ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		return len(snaps)
	}
	if n := quotas(f.alice); n != 0 {
		t.Errorf("quota documents of the erased user = %d, want 0", n)
	}
	if quotas(f.bob) != 1 || quotas(lookalike) != 1 {
		t.Errorf("quota documents of others: bob %d, %s %d; want 1 each", quotas(f.bob), lookalike, quotas(lookalike))
	}
	if st := f.record(bobs.ObjectPath).Status; st != model.MediaPending {
		t.Errorf("another user's upload = %s, want pending", st)
	}
	again, err := f.svc.Issuer.EraseUser(ctx, f.alice)
	if err != nil || again != (Erasure{}) {
		t.Errorf("EraseUser again = %+v, %v; want nothing, nil", again, err)
	}
	if _, err := f.svc.Issuer.EraseUser(ctx, ""); err == nil {
		t.Error(`EraseUser("") = nil error, want an error`)
	}
}
