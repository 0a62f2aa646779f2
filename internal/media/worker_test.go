package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/internal/model"
)

// Jobs that misbehave as a hostile file could, for the worker tests. They are
// registered in the test binary, which is also the worker these tests start: as a
// package variable's initialiser, which runs before the init that serves the worker.
var _ = registerTestOps()

func registerTestOps() bool {
	workerOps["test-alloc"] = func(string, []byte) (imageOutput, error) {
		var keep [][]byte
		for {
			b := make([]byte, 32<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1 // touch every page
			}
			keep = append(keep, b)
		}
	}
	workerOps["test-spin"] = func(_ string, data []byte) (imageOutput, error) {
		x := uint64(len(data))
		for {
			x = x*6364136223846793005 + 1442695040888963407
			if x == 0 {
				return imageOutput{}, nil
			}
		}
	}
	workerOps["test-hang"] = func(string, []byte) (imageOutput, error) {
		select {} // blocks for ever without using CPU: only the deadline ends it
	}
	workerOps["test-die"] = func(string, []byte) (imageOutput, error) {
		os.NewFile(3, "result").Write([]byte(workerResponseMagic + "\x00")) // half an answer
		os.Exit(1)
		return imageOutput{}, nil
	}
	image := workerOps[opImage]
	workerOps[opImage] = func(contentType string, data []byte) (imageOutput, error) {
		if bytes.Contains(data, []byte(dieMarker)) {
			os.NewFile(3, "result").Write([]byte(workerResponseMagic)) // dies mid-answer
			os.Exit(1)
		}
		return image(contentType, data)
	}
	return true
}

// dieMarker in an image makes the test binary's worker die while processing it, as a
// decoder crash would.
const dieMarker = "HEARTH-TEST-WORKER-DIES"

// withComment returns the JPEG jpg with a COM segment of text after SOI.
func withComment(jpg []byte, text string) []byte {
	seg := []byte{0xFF, 0xFE, byte((len(text) + 2) >> 8), byte(len(text) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, text...)
	return append(out, jpg[2:]...)
}

// TestFinalizeWorkerFailures goes through the whole handler with the emulators: a
// worker that dies mid-way, the HEIC extent bomb and the many-scan JPEG are each
// rejected, with the event acknowledged (nil: no redelivery) and a redelivery
// changing nothing; a good photo uploaded after them is processed as usual.
func TestFinalizeWorkerFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name, contentType string
		body              []byte
		want              RejectReason
	}{
		{"worker dies", "image/jpeg", withComment(encodeJPEG(t, quadrantImage(64, 64)), dieMarker), RejectTooComplex},
		{"extent bomb heic", "image/heic", heicExtentBomb(65535, 4000), RejectTooComplex},
		{"many-scan jpeg", "image/jpeg", manyScanJPEG(t, 256, 256, 3000), RejectTooComplex},
	}
	for i, c := range cases {
		tk, obj := f.upload(f.alice, c.contentType, c.body)
		msgID := fmt.Sprintf("wf%d", i)
		f.writeMessage(msgID, f.alice, tk, c.contentType, int64(len(c.body)))
		for delivery := 1; delivery <= 2; delivery++ {
			if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
				t.Fatalf("%s: delivery %d: HandleFinalize() = %v, want nil (acknowledged)", c.name, delivery, err)
			}
		}
		if rec := f.record(tk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(c.want) {
			t.Errorf("%s: record = %s %q, want rejected %q", c.name, rec.Status, rec.Reason, c.want)
		}
		if got := f.message(msgID).Media.Status; got != model.MediaRejected {
			t.Errorf("%s: message status = %s, want rejected", c.name, got)
		}
		if f.read(tk.ObjectPath) != nil {
			t.Errorf("%s: rejected object still stored", c.name)
		}
	}
	tk, obj := f.upload(f.alice, "image/jpeg", encodeJPEG(t, quadrantImage(64, 48)))
	if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
		t.Fatalf("good photo: HandleFinalize() = %v", err)
	}
	if rec := f.record(tk.ObjectPath); rec.Status != model.MediaReady || rec.Width != 64 || rec.ThumbnailPath == "" {
		t.Errorf("good photo after the failures: record = %+v, want ready 64 wide with a thumbnail", rec)
	}
}

// testWorker is a worker of this test binary with small limits.
func testWorker(t *testing.T) *worker {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &worker{path: exe, limits: workerLimits{Memory: 256 << 20, CPU: time.Second}, wall: 30 * time.Second}
}

// TestWorkerProcessesImage: a photo goes through the worker with the same result as
// in this process (pixels, size, thumbnail).
func TestWorkerProcessesImage(t *testing.T) {
	data := withEXIF(encodeJPEG(t, quadrantImage(64, 48)), exifTIFF(OrientRotate90CW, true))
	want, err := processImage("image/jpeg", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := testWorker(t).run(t.Context(), opImage, "image/jpeg", data)
	if err != nil {
		t.Fatalf("worker run = %v", err)
	}
	if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Stored, want.Stored) || !bytes.Equal(got.Thumb, want.Thumb) {
		t.Fatalf("worker result %d×%d (%d, %d bytes) differs from in-process %d×%d (%d, %d bytes)",
			got.Width, got.Height, len(got.Stored), len(got.Thumb), want.Width, want.Height, len(want.Stored), len(want.Thumb))
	}
	if _, err := jpeg.Decode(bytes.NewReader(got.Thumb)); err != nil {
		t.Errorf("thumbnail does not decode: %v", err)
	}
}

// TestWorkerRejects: the hostile files of issue 11 and a worker that misbehaves in
// every way a decoder could are all rejected with a reason, and this process (which
// ran them) is still here to check.
func TestWorkerRejects(t *testing.T) {
	w := testWorker(t)
	cases := []struct {
		name, op, contentType string
		data                  []byte
		want                  RejectReason
		why                   string // in the error message
		kill                  string // the kill reason reported; "" none, "*" any
	}{
		{"extent bomb heic", opImage, "image/heic", heicExtentBomb(65535, 2000), RejectTooComplex, "extents", ""},
		{"many-scan jpeg", opImage, "image/jpeg", manyScanJPEG(t, 256, 256, 3000), RejectTooComplex, "scans", ""},
		{"truncated jpeg", opImage, "image/jpeg", encodeJPEG(t, quadrantImage(64, 64))[:300], RejectMalformed, "past the end", ""},
		{"out of memory", "test-alloc", "image/png", nil, RejectTooComplex, "out of memory", "*"},
		{"out of cpu", "test-spin", "image/png", nil, RejectTooComplex, "killed", killSignal},
		{"dies mid-answer", "test-die", "image/png", nil, RejectTooComplex, "exited with code 1", killExit},
		{"unknown op", "no-such-op", "image/png", nil, RejectTooComplex, "exited with code 4", killExit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := *w
			if c.op == "test-alloc" {
				w.limits.CPU = 20 * time.Second // the memory limit must come first
			}
			var kills []string
			w.killed = func(reason string) { kills = append(kills, reason) }
			out, err := w.run(t.Context(), c.op, c.contentType, c.data)
			switch {
			case c.kill == "" && len(kills) > 0,
				c.kill == "*" && len(kills) != 1,
				c.kill != "" && c.kill != "*" && !slices.Equal(kills, []string{c.kill}):
				t.Errorf("kills reported = %q, want %q", kills, c.kill)
			}
			mentions := strings.Contains(err.Error(), c.why)
			if c.op == "test-alloc" {
				// The race detector's runtime fails its mappings with its own words.
				mentions = mentions || strings.Contains(err.Error(), "address space")
			}
			if got := rejectReason(err); got != c.want || !mentions {
				t.Fatalf("run = %+v, %v (reason %q), want reason %q mentioning %q", out, err, got, c.want, c.why)
			}
		})
	}
}

// TestWorkerDeadline: a worker that neither answers nor uses CPU is killed at the
// wall-clock deadline and the upload rejected.
func TestWorkerDeadline(t *testing.T) {
	w := testWorker(t)
	w.wall = 2 * time.Second
	var kills []string
	w.killed = func(reason string) { kills = append(kills, reason) }
	_, err := w.run(t.Context(), "test-hang", "image/png", nil)
	if got := rejectReason(err); got != RejectTooComplex || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("run = %v (reason %q), want too-complex at the deadline", err, got)
	}
	if !slices.Equal(kills, []string{killTimeout}) {
		t.Errorf("kills reported = %q, want [timeout]", kills)
	}
}

// TestWorkerResponseBounded: the parent reads at most its budget from a child, so a
// child that claims a huge stored copy costs nothing.
func TestWorkerResponseBounded(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString(workerResponseMagic)
	buf.Write([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1})
	buf.Write([]byte{0x40, 0, 0, 0, 0, 0, 0, 0}) // 2^62 bytes of stored copy
	var err error
	assertBoundedAlloc(t, "readWorkerResponse", buf.Len(), 4, func() {
		_, err = readWorkerResponse(bytes.NewReader(buf.Bytes()), 1<<20)
	})
	if !errors.Is(err, errWorkerProtocol) {
		t.Fatalf("readWorkerResponse = %v, want %v", err, errWorkerProtocol)
	}
	// Every prefix of a good answer is refused, never a panic.
	var good bytes.Buffer
	if err := writeWorkerResponse(&good, imageOutput{Stored: []byte("stored"), Thumb: []byte("thumb"), Width: 3, Height: 2}, nil, 1<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := readWorkerResponse(bytes.NewReader(good.Bytes()), 1<<20); err != nil || string(out.Stored) != "stored" || string(out.Thumb) != "thumb" || out.Width != 3 {
		t.Fatalf("good answer = %+v, %v", out, err)
	}
	for n := 0; n < good.Len(); n++ {
		if _, err := readWorkerResponse(bytes.NewReader(good.Bytes()[:n]), 1<<20); err == nil {
			t.Fatalf("%d-byte prefix accepted", n)
		}
	}
}

// TestWorkerCannotStart: a missing executable is an error to retry (the file is not
// at fault), not a rejection.
func TestWorkerCannotStart(t *testing.T) {
	w := testWorker(t)
	w.path = "/nonexistent/hearth"
	_, err := w.run(t.Context(), opImage, "image/png", nil)
	if err == nil || rejectReason(err) != "" {
		t.Fatalf("run = %v, want a plain error", err)
	}
}

// TestFinalizeHEIC: an iPhone-style HEIC upload (the libheif-encoded fixture, with a
// GPS position in its Exif item) becomes ready with a JPEG thumbnail and a JPEG
// rendition that GET /v1/media serves; the stored HEIC has lost its GPS position.
func TestFinalizeHEIC(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := readFixture(t, "p3-gps.heic")
	tk, obj := f.upload(f.alice, "image/heic", data)
	f.writeMessage("heic1", f.alice, tk, "image/heic", int64(len(data)))
	if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
		t.Fatalf("HandleFinalize() = %v", err)
	}
	rec := f.record(tk.ObjectPath)
	if rec.Status != model.MediaReady || rec.Width != 64 || rec.Height != 48 || rec.ThumbnailPath == "" || rec.RenditionPath == "" {
		t.Fatalf("record = %+v, want ready 64×48 with a thumbnail and a rendition", rec)
	}
	if m := f.message("heic1").Media; m.Status != model.MediaReady || m.ThumbnailPath != rec.ThumbnailPath || m.RenditionPath != rec.RenditionPath {
		t.Errorf("message media = %+v, want ready with the thumbnail and the rendition", m)
	}
	for _, p := range []string{rec.ThumbnailPath, rec.RenditionPath} {
		b := f.read(p)
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s does not decode as JPEG: %v", p, err)
		}
	}
	stored := f.read(tk.ObjectPath)
	if info, err := parseHEIF(stored); err != nil || len(info.Metadata) != 1 {
		t.Fatalf("stored heic: %+v, %v", info, err)
	} else {
		e := info.Metadata[0].loc.extents[0]
		if parseTIFF(stored[e[0]+4 : e[1]]).HasGPS {
			t.Error("stored HEIC's Exif item still has GPS")
		}
	}
	if _, err := f.svc.Issuer.Download(t.Context(), f.alice, rec.RenditionPath, false); err != nil {
		t.Errorf("Download(rendition) = %v", err)
	}
	// The rendition's own finalize event is Hearth's write: nothing to do.
	if err := f.svc.Processor.HandleFinalize(t.Context(), f.object(rec.RenditionPath)); err != nil {
		t.Errorf("HandleFinalize(rendition) = %v", err)
	}
	if again := f.record(tk.ObjectPath); again.Status != model.MediaReady || again.RenditionPath != rec.RenditionPath {
		t.Errorf("record after the rendition's event = %+v", again)
	}
}

// TestWorkerDiesBeforeReading: a child that exits before it reads its request (here:
// it cannot apply its limits) while the parent is still writing a large one neither
// blocks the parent nor leaves it a result; the parent reports the child's failure.
func TestWorkerDiesBeforeReading(t *testing.T) {
	w := testWorker(t)
	w.limits.Memory = -1 // the child refuses these limits and exits at once
	data := make([]byte, model.MaxImageSize)
	_, err := w.run(t.Context(), opImage, "image/png", data)
	if err == nil || rejectReason(err) != "" || !strings.Contains(err.Error(), "cannot apply its limits") {
		t.Fatalf("run = %v, want the child's limits error", err)
	}
}

// waitingInCheck matches a goroutine stopped in a select of Processor.check itself
// (not in one deeper down, such as a storage read's).
var waitingInCheck = regexp.MustCompile(`goroutine \d+ \[select[^\n]*\n[^\n]*media\.\(\*Processor\)\.check\(`)

// blockedOnSlot counts the goroutines waiting for a worker slot in Processor.check.
func blockedOnSlot() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return len(waitingInCheck.FindAll(buf, -1))
}

// TestImagesWaitForASlotUnread: images waiting for a worker slot hold none of their
// bytes. Many members' uploads finalized at once (every event is handled as it
// arrives) would otherwise each keep up to 20 MiB in the service while they wait,
// however small Workers is.
func TestImagesWaitForASlotUnread(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Workers = 1 })
	p := f.svc.Processor
	p.sem <- struct{}{} // the only slot is busy
	const uploads, size = 4, 6 << 20
	var evs []Object
	for i := range uploads {
		body := append(encodeJPEG(t, quadrantImage(16, 16)), make([]byte, size)...)
		body[len(body)-1] = byte(i)
		_, ev := f.upload(f.alice, "image/jpeg", body)
		evs = append(evs, ev)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, uploads)
	for _, ev := range evs {
		go func() { errc <- p.HandleFinalize(ctx, ev) }()
	}
	emutest.Eventually(t, 30*time.Second, func() error {
		if len(errc) > 0 {
			t.Fatalf("a check ended without a slot: %v", <-errc)
		}
		if n := blockedOnSlot(); n < uploads {
			return fmt.Errorf("%d of %d checks waiting for the slot", n, uploads)
		}
		return nil
	})
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	cancel()
	for range uploads {
		<-errc
	}
	<-p.sem
	if grew := int64(during.HeapAlloc) - int64(before.HeapAlloc); grew > size {
		t.Fatalf("%d checks waiting for a worker slot hold %d MiB of heap, want less than one upload (%d MiB)",
			uploads, grew>>20, size>>20)
	}
}
