package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hearth-chat/hearth/internal/model"
)

// The fixtures in testdata are real files made with ffmpeg, exiftool and libwebp;
// testdata/README.md has the commands that made them. Each carries a location.

// locationMarkers are byte strings of the fixtures' metadata that must not survive.
var locationMarkers = []string{
	"48.8584", "+48.8584+002.2945", "com.apple.quicktime.location.ISO6709", "loci", "\xa9xyz",
	"Paris", "Voice note", "Holiday", "Apple",
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leaks returns the markers found in data.
func leaks(data []byte) []string {
	var found []string
	for _, m := range locationMarkers {
		if bytes.Contains(data, []byte(m)) {
			found = append(found, m)
		}
	}
	return found
}

// TestFinalizeStripsOpaque: a video, an audio file and a WebP with a location are
// stored without it, and still are what they were: for MP4/MOV/M4A the same size with
// every chunk offset pointing at the same media bytes, for MP3 the same audio frames.
func TestFinalizeStripsOpaque(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		file, contentType string
		sameSize          bool
	}{
		{"iphone.mov", "video/quicktime", true},
		{"clip.mp4", "video/mp4", true},
		{"voice.m4a", "audio/mp4", true},
		{"tagged.mp3", "audio/mpeg", false},
		{"tagged-v23.mp3", "audio/mpeg", false},
		{"photo.webp", "image/webp", false},
	}
	for i, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			body := readFixture(t, c.file)
			if c.contentType == "image/webp" {
				body = webpWithChunk(t, body, "HRTH", []byte("secret 48.8584"))
			}
			if len(leaks(body)) == 0 {
				t.Fatalf("fixture %s carries no marker", c.file)
			}
			tk, obj := f.upload(f.alice, c.contentType, body)
			msgID := fmt.Sprintf("strip%d", i)
			f.writeMessage(msgID, f.alice, tk, c.contentType, int64(len(body)))
			if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
				t.Fatalf("HandleFinalize() = %v", err)
			}
			if m := f.message(msgID).Media; m.Status != model.MediaReady {
				t.Fatalf("media = %+v, want ready", *m)
			}
			stored := f.read(tk.ObjectPath)
			if l := leaks(stored); len(l) > 0 {
				t.Errorf("stored %s still carries %q", c.file, l)
			}
			if c.sameSize && len(stored) != len(body) {
				t.Errorf("stored %d bytes, uploaded %d: an MP4 must keep its size", len(stored), len(body))
			}
			rec := f.record(tk.ObjectPath)
			if rec.StoredSize != int64(len(stored)) || rec.RewriteMD5 == "" {
				t.Errorf("record = %+v, want stored size %d and a rewrite MD5", rec, len(stored))
			}
			switch c.contentType {
			case "video/quicktime", "video/mp4", "audio/mp4":
				checkSameMedia(t, body, stored)
			case "audio/mpeg":
				checkSameAudio(t, body, stored)
			}
			// The event of Hearth's own rewrite changes nothing.
			if err := f.svc.Processor.HandleFinalize(t.Context(), f.object(tk.ObjectPath)); err != nil {
				t.Errorf("HandleFinalize(rewrite event) = %v", err)
			}
			if again := f.record(tk.ObjectPath); !again.ProcessedAt.Equal(rec.ProcessedAt) {
				t.Error("the rewrite's event was processed again")
			}
		})
	}
}

// webpWithChunk appends a chunk to a WebP and fixes its RIFF size.
func webpWithChunk(t testing.TB, data []byte, fourcc string, payload []byte) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	out = append(out, fourcc...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(payload)))
	out = append(out, payload...)
	if len(payload)%2 == 1 {
		out = append(out, 0)
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out
}

// TestFinalizeRejectsUnwalkable: a video or audio file whose container cannot be
// walked is rejected with the reason the message shows, and its object is deleted.
func TestFinalizeRejectsUnwalkable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mov := readFixture(t, "clip.mp4")
	beyond := append(append([]byte(nil), mov[:40]...), "\x7f\xff\xff\xffmoov"...) // ftyp, free, then a huge moov
	cases := []struct {
		name, contentType string
		body              []byte
		want              RejectReason
	}{
		{"mp4 box beyond the file", "video/mp4", beyond, RejectMalformed},
		{"mov with a compressed header", "video/quicktime", append(append([]byte(nil), mov[:40]...), mp4Box("moov", mp4Box("cmov", []byte("zlib")))...), RejectTooComplex},
		{"mp3 without audio", "audio/mpeg", id3v2(3, 0, []byte("TXXX 48.8584")), RejectMalformed},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk, obj := f.upload(f.alice, c.contentType, c.body)
			msgID := fmt.Sprintf("bad%d", i)
			f.writeMessage(msgID, f.alice, tk, c.contentType, int64(len(c.body)))
			if err := f.svc.Processor.HandleFinalize(t.Context(), obj); err != nil {
				t.Fatalf("HandleFinalize() = %v", err)
			}
			if m := f.message(msgID).Media; m.Status != model.MediaRejected {
				t.Errorf("media = %+v, want rejected", *m)
			}
			if rec := f.record(tk.ObjectPath); rec.Status != model.MediaRejected || rec.Reason != string(c.want) {
				t.Errorf("record status %s reason %q, want rejected %q", rec.Status, rec.Reason, c.want)
			}
			if f.read(tk.ObjectPath) != nil {
				t.Error("rejected object still stored")
			}
		})
	}
}
