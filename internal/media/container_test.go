package media

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"image"
	"image/draw"
	"image/gif"
	"testing"

	"golang.org/x/image/webp"
)

// webpChunks lists the chunks of a WebP at one level ([from, to) of data), failing
// the test when one does not fit.
func webpChunks(t testing.TB, data []byte, from, to int) []string {
	t.Helper()
	var out []string
	for i := from; i < to; {
		if i+8 > to {
			t.Fatalf("truncated chunk at %d", i)
		}
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if i+8+n > to {
			t.Fatalf("chunk %q beyond %d", data[i:i+4], to)
		}
		if n%2 == 1 && i+8+n < to && data[i+8+n] != 0 {
			t.Errorf("pad byte of %q is %#x", data[i:i+4], data[i+8+n])
		}
		out = append(out, string(data[i:i+4]))
		i += 8 + n + n%2
	}
	return out
}

// sameImage reports whether two images have the same bounds and RGBA pixels.
func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	ra, rb := image.NewNRGBA(a.Bounds()), image.NewNRGBA(b.Bounds())
	draw.Draw(ra, ra.Bounds(), a, a.Bounds().Min, draw.Src)
	draw.Draw(rb, rb.Bounds(), b, b.Bounds().Min, draw.Src)
	return bytes.Equal(ra.Pix, rb.Pix)
}

// TestStripWebPFixture: the real WebP (VP8X, ALPH, VP8, EXIF, XMP) with an unknown
// chunk keeps only what renders, and decodes to the same pixels.
func TestStripWebPFixture(t *testing.T) {
	in := webpWithChunk(t, readFixture(t, "photo.webp"), "HRTH", []byte("secret 48.8584"))
	out, err := stripWebP(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := webpChunks(t, out, 12, len(out)), []string{"VP8X", "ALPH", "VP8 "}; !equalStrings(got, want) {
		t.Errorf("chunks = %q, want %q", got, want)
	}
	if l := leaks(out); len(l) > 0 {
		t.Errorf("cleaned WebP still carries %q", l)
	}
	if flags := out[20]; flags != webpFlagAlpha {
		t.Errorf("VP8X flags = %#x, want alpha only", flags)
	}
	if int(binary.LittleEndian.Uint32(out[4:8])) != len(out)-8 {
		t.Errorf("RIFF size %d for %d bytes", binary.LittleEndian.Uint32(out[4:8]), len(out))
	}
	a, err := webp.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := webp.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("cleaned WebP does not decode: %v", err)
	}
	if !sameImage(a, b) {
		t.Error("cleaned WebP decodes to other pixels")
	}
	if again, err := stripWebP(out); err != nil || !bytes.Equal(again, out) {
		t.Errorf("cleaning twice = %v, changed %v", err, !bytes.Equal(again, out))
	}
}

// TestStripWebPAnimation: an animated WebP keeps its ANIM and both frames, loses
// EXIF, an unknown top-level chunk and an unknown chunk inside a frame.
func TestStripWebPAnimation(t *testing.T) {
	in := readFixture(t, "anim.webp")
	// An unknown sub-chunk at the end of the first ANMF (its size grows by 16).
	first := 12 + 18 + 14 // RIFF header, VP8X, ANIM
	if string(in[first:first+4]) != "ANMF" {
		t.Fatalf("fixture layout: %q at %d", in[first:first+4], first)
	}
	n := int(binary.LittleEndian.Uint32(in[first+4:]))
	hidden := append([]byte("HRTH\x08\x00\x00\x00"), "48.8584!"...)
	mod := append(append(append([]byte(nil), in[:first+8+n]...), hidden...), in[first+8+n:]...)
	binary.LittleEndian.PutUint32(mod[first+4:], uint32(n+len(hidden)))
	mod = webpWithChunk(t, mod, "HRTH", []byte("top"))

	out, err := stripWebP(mod)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := webpChunks(t, out, 12, len(out)), []string{"VP8X", "ANIM", "ANMF", "ANMF"}; !equalStrings(got, want) {
		t.Errorf("chunks = %q, want %q", got, want)
	}
	for i := 12; i < len(out); {
		size := int(binary.LittleEndian.Uint32(out[i+4:]))
		if string(out[i:i+4]) == "ANMF" {
			if got := webpChunks(t, out, i+8+anmfHeaderLen, i+8+size); !equalStrings(got, []string{"VP8 "}) {
				t.Errorf("frame at %d holds %q, want its VP8 only", i, got)
			}
		}
		i += 8 + size + size%2
	}
	if bytes.Contains(out, []byte("48.8584")) || bytes.Contains(out, []byte("EXIF")) {
		t.Error("metadata left")
	}
	if flags := out[20]; flags != webpFlagAnim {
		t.Errorf("VP8X flags = %#x, want animation only", flags)
	}
	// The frames' bytes are the original's.
	if !bytes.Contains(out, in[first:first+8+n]) {
		t.Error("first frame changed")
	}
}

// TestStripWebPKeepsICC: the colour profile stays, with its flag; reserved VP8X bits
// and bytes become zero.
func TestStripWebPKeepsICC(t *testing.T) {
	base, err := base64.StdEncoding.DecodeString(webpAlpha)
	if err != nil {
		t.Fatal(err)
	}
	icc := append([]byte("ICCP\x05\x00\x00\x00"), "prof!\x00"...) // odd size, padded
	in := append(append(append([]byte(nil), base[:30]...), icc...), base[30:]...)
	in[20] |= 0xC1 // reserved bits
	in[21] = 0x7F  // reserved byte
	binary.LittleEndian.PutUint32(in[4:8], uint32(len(in)-8))
	out, err := stripWebP(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := webpChunks(t, out, 12, len(out)), []string{"VP8X", "ICCP", "ALPH", "VP8 "}; !equalStrings(got, want) {
		t.Errorf("chunks = %q, want %q", got, want)
	}
	if out[20] != webpFlagICC|webpFlagAlpha || out[21] != 0 {
		t.Errorf("VP8X flags = %#x, reserved %#x; want ICC|alpha, 0", out[20], out[21])
	}
	if _, err := webp.Decode(bytes.NewReader(out)); err != nil {
		t.Errorf("cleaned WebP does not decode: %v", err)
	}
}

// TestStripWebPRejects: what the walk cannot trust is rejected with a reason.
func TestStripWebPRejects(t *testing.T) {
	base, err := base64.StdEncoding.DecodeString(webpAlpha)
	if err != nil {
		t.Fatal(err)
	}
	riff := func(chunks ...[]byte) []byte {
		body := append([]byte("WEBP"), bytes.Join(chunks, nil)...)
		return append(append([]byte("RIFF"), le32(uint32(len(body)))...), body...)
	}
	chunk := func(fourcc string, payload []byte) []byte {
		return append(append([]byte(fourcc), le32(uint32(len(payload)))...), payload...)
	}
	vp8 := base[12+18+20:] // the VP8 chunk of webpAlpha
	cases := []struct {
		name string
		data []byte
		want RejectReason
	}{
		{"not RIFF", []byte("RIFX\x04\x00\x00\x00WEBP"), RejectMalformed},
		{"RIFF size beyond the file", append(append([]byte(nil), base[:4]...), append(le32(1<<30), base[8:]...)...), RejectMalformed},
		{"chunk beyond RIFF", riff(chunk("VP8 ", []byte("abc"))[:8], []byte("ab")), RejectMalformed},
		{"VP8X of 12 bytes", riff(chunk("VP8X", make([]byte, 12)), vp8), RejectMalformed},
		{"VP8X not first", riff(vp8, chunk("VP8X", make([]byte, 10))), RejectMalformed},
		{"no image", riff(chunk("EXIF", []byte("48.8584!"))), RejectMalformed},
		{"short ANMF", riff(chunk("VP8X", make([]byte, 10)), chunk("ANMF", make([]byte, 8))), RejectMalformed},
		{"truncated chunk header", riff(vp8, []byte("VP8")), RejectMalformed},
		{"too many chunks", riff(append(bytes.Repeat(chunk("HRTH", nil), maxWebPChunks), vp8...)), RejectTooComplex},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := stripWebP(c.data)
			var rej *rejectError
			if !errors.As(err, &rej) || rej.reason != c.want {
				t.Errorf("stripWebP = %v, want %s", err, c.want)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStripGIFFixture: the real GIF loses its comment and XMP, keeps both frames
// (same pixels) and its loop count; data hidden after a kept extension's block goes.
func TestStripGIFFixture(t *testing.T) {
	in := readFixture(t, "anim.gif")
	gce := bytes.Index(in, []byte{0x21, 0xF9, 0x04})
	if gce < 0 {
		t.Fatal("fixture has no graphic control extension")
	}
	// An extra sub-block after the GCE's 4-byte block, before its terminator.
	mod := append(append(append([]byte(nil), in[:gce+7]...), "\x0748.8584"...), in[gce+7:]...)
	out, frames, err := stripGIF(mod)
	if err != nil {
		t.Fatal(err)
	}
	if frames != 2 {
		t.Errorf("frames = %d, want 2", frames)
	}
	if l := leaks(out); len(l) > 0 || bytes.Contains(out, []byte("XMP")) {
		t.Errorf("cleaned GIF still carries %q", l)
	}
	a, err := gif.DecodeAll(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("cleaned GIF does not decode: %v", err)
	}
	if len(b.Image) != len(a.Image) || b.LoopCount != a.LoopCount {
		t.Fatalf("cleaned GIF: %d frames, loop %d; want %d, %d", len(b.Image), b.LoopCount, len(a.Image), a.LoopCount)
	}
	for i := range a.Image {
		if !sameImage(a.Image[i], b.Image[i]) || a.Delay[i] != b.Delay[i] {
			t.Errorf("frame %d differs", i)
		}
	}
}

// TestStripGIFRejects: caps and truncation give their reasons.
func TestStripGIFRejects(t *testing.T) {
	header := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00")
	frame := []byte{0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0}
	comment := []byte{0x21, 0xFE, 1, 'x', 0}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name string
		data []byte
		want RejectReason
	}{
		{"no header", []byte("GIF90a"), RejectMalformed},
		{"no trailer", cat(header, frame), RejectMalformed},
		{"truncated frame", cat(header, frame[:12]), RejectMalformed},
		{"unknown block", cat(header, []byte{0x99}), RejectMalformed},
		{"too many frames", cat(header, bytes.Repeat(frame, maxGIFFrames+1), []byte{0x3B}), RejectTooComplex},
		{"too many blocks", cat(header, bytes.Repeat(comment, maxGIFBlocks+1), frame, []byte{0x3B}), RejectTooComplex},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := stripGIF(c.data)
			var rej *rejectError
			if !errors.As(err, &rej) || rej.reason != c.want {
				t.Errorf("stripGIF = %v, want %s", err, c.want)
			}
		})
	}
}
