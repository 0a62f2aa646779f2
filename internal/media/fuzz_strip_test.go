package media

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"testing"
)

// allocLimit is the allocation bound of the metadata strippers for an input of n
// bytes: every one may allocate its output (at most the input plus a pad byte) and a
// few fixed buffers, never a multiple of what a header claims.
func allocLimit(n int) uint64 { return 3*uint64(n) + allocSlack }

// checkRejection fails unless err is nil or a rejection with one of the walk's
// reasons: the parsers read from memory here, so no other error may come out.
func checkRejection(t *testing.T, err error) {
	t.Helper()
	var rej *rejectError
	if err != nil && (!errors.As(err, &rej) || (rej.reason != RejectMalformed && rej.reason != RejectTooComplex)) {
		t.Fatalf("error %v is not a malformed/too-complex rejection", err)
	}
}

func addFixtures(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(readFixture(f, n))
	}
}

// FuzzStripISOBMFF: whatever the bytes, the MP4 walk allocates a bounded amount,
// returns a rejection or a copy of exactly the input's size, and a copy is clean:
// walking it again changes nothing.
func FuzzStripISOBMFF(f *testing.F) {
	addFixtures(f, "iphone.mov", "clip.mp4", "voice.m4a")
	f.Add(mp4Box("ftyp", []byte("isom")))
	f.Add(append(mp4Box64("uuid", []byte(xmpUUID)), mp4Box("moov", mp4Box("trak", mp4Box("udta")))...))
	f.Add([]byte("\x00\x00\x00\x00mdat"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var changed bool
		var err error
		cw := &countingWriter{w: io.Discard}
		if n := allocated(func() {
			cw.n = 0
			changed, err = stripISOBMFF(cw, bytes.NewReader(data), int64(len(data)))
		}); n > allocLimit(len(data)) {
			t.Fatalf("stripISOBMFF allocated %d bytes for %d", n, len(data))
		}
		checkRejection(t, err)
		if err != nil {
			return
		}
		if cw.n != int64(len(data)) {
			t.Fatalf("wrote %d bytes of %d", cw.n, len(data))
		}
		out, _, err := stripMP4Bytes(data)
		if err != nil {
			t.Fatalf("second run: %v", err)
		}
		again, changedAgain, err := stripMP4Bytes(out)
		if err != nil || changedAgain || !bytes.Equal(again, out) {
			t.Fatalf("cleaning the copy = changed %v, %v", changedAgain, err)
		}
		if !changed && !bytes.Equal(out, data) {
			t.Fatal("unchanged but different")
		}
	})
}

// FuzzStripID3: the MP3 tag walk allocates nothing but its errors and returns a run
// of the input that starts with an audio frame and has no tag left to remove.
func FuzzStripID3(f *testing.F) {
	addFixtures(f, "tagged.mp3", "tagged-v23.mp3")
	f.Add(append(id3v2(4, 0x10, []byte("TIT2")), mp3Frame...))
	f.Add(append(append([]byte(nil), mp3Frame...), apeTag([]byte("x"))...))
	f.Add(append(append([]byte(nil), mp3Frame...), "LYRICSBEGINxLYRICSEND"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out []byte
		var err error
		if n := allocated(func() { out, _, err = stripID3(data) }); n > allocLimit(len(data)) {
			t.Fatalf("stripID3 allocated %d bytes for %d", n, len(data))
		}
		checkRejection(t, err)
		if err != nil {
			return
		}
		if !bytes.Contains(data, out) || !isMPEGAudioFrame(out) {
			t.Fatal("output is not a run of the input that starts with audio")
		}
		again, changed, err := stripID3(out)
		if err != nil || changed || !bytes.Equal(again, out) {
			t.Fatalf("cleaning the output = changed %v, %v", changed, err)
		}
	})
}

// FuzzStripWebP: the WebP walk allocates about its output, which is never longer
// than the input plus a pad byte, and is clean: walking it again changes nothing.
func FuzzStripWebP(f *testing.F) {
	addFixtures(f, "photo.webp", "anim.webp")
	if b, err := base64.StdEncoding.DecodeString(webpAlpha); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out []byte
		var err error
		if n := allocated(func() { out, err = stripWebP(data) }); n > allocLimit(len(data)) {
			t.Fatalf("stripWebP allocated %d bytes for %d", n, len(data))
		}
		checkRejection(t, err)
		if err != nil {
			return
		}
		if len(out) > len(data)+1 {
			t.Fatalf("output %d bytes from %d", len(out), len(data))
		}
		again, err := stripWebP(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("cleaning the output: %v, changed %v", err, !bytes.Equal(again, out))
		}
	})
}

// FuzzStripGIF: the GIF walk allocates about its output, never longer than the
// input, and is clean: walking it again changes nothing.
func FuzzStripGIF(f *testing.F) {
	addFixtures(f, "anim.gif")
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3B"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out []byte
		var frames int
		var err error
		if n := allocated(func() { out, frames, err = stripGIF(data) }); n > allocLimit(len(data)) {
			t.Fatalf("stripGIF allocated %d bytes for %d", n, len(data))
		}
		checkRejection(t, err)
		if err != nil {
			return
		}
		if len(out) > len(data) {
			t.Fatalf("output %d bytes from %d", len(out), len(data))
		}
		again, framesAgain, err := stripGIF(out)
		if err != nil || framesAgain != frames || !bytes.Equal(again, out) {
			t.Fatalf("cleaning the output: %v, frames %d→%d, changed %v", err, frames, framesAgain, !bytes.Equal(again, out))
		}
	})
}
