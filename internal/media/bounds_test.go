package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"runtime"
	"testing"
)

// allocSlack is the constant part of the memory a parser may use whatever its input:
// maps, small slices and the test's own bookkeeping.
const allocSlack = 1 << 20

// allocated returns the bytes f allocates on the heap (runtime.MemStats.TotalAlloc,
// which counts every allocation, freed or not): the least of two runs, so that an
// allocation by another goroutine between two MemStats is not blamed on f.
func allocated(f func()) uint64 {
	var least uint64
	for i := range 2 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; i == 0 || n < least {
			least = n
		}
	}
	return least
}

// assertBoundedAlloc fails when f allocates more than factor × input + allocSlack.
func assertBoundedAlloc(t testing.TB, what string, input int, factor uint64, f func()) {
	t.Helper()
	if got, limit := allocated(f), factor*uint64(input)+allocSlack; got > limit {
		t.Fatalf("%s on %d input bytes allocated %d bytes, want ≤ %d", what, input, got, limit)
	}
}

// rejectReason returns the reason of a *rejectError, or "" for any other error.
func rejectReason(err error) RejectReason {
	var rej *rejectError
	if errors.As(err, &rej) {
		return rej.reason
	}
	return ""
}

// heicExtentBomb is a HEIF file whose iloc gives the Exif item n extents with offset,
// length and base-offset sizes 0: each extent costs no byte of the file and means "the
// whole file". pad bytes of mdat make the file that large.
func heicExtentBomb(n, pad int) []byte {
	var entries []byte
	entries = append(entries, u16(1)...)                   // one item
	entries = append(entries, u16(2)...)                   // item 2 (Exif)
	entries = append(entries, u16(0)...)                   // data reference 0
	entries = append(entries, u16(n)...)                   // extent count; each extent is 0 bytes
	iloc := box("iloc", true, []byte{0x00, 0x00}, entries) // offset, length, base sizes 0
	infe := func(id int, typ string) []byte {
		return box("infe", false, []byte{2, 0, 0, 0}, u16(id), u16(0), []byte(typ), []byte{0})
	}
	meta := box("meta", true,
		box("hdlr", true, u32(0), []byte("pict"), make([]byte, 12), []byte{0}),
		box("pitm", true, u16(1)),
		iloc,
		box("iinf", true, u16(2), infe(1, "hvc1"), infe(2, "Exif")),
		box("iprp", false, box("ipco", false, box("ispe", true, u32(64), u32(64))), box("ipma", true, u32(1), u16(1), []byte{1, 0x81})),
	)
	ftyp := box("ftyp", false, []byte("heic"), u32(0), []byte("mif1heic"))
	out := append(ftyp, meta...)
	return append(out, box("mdat", false, make([]byte, pad))...)
}

// TestHEIFExtentBomb is the HEIC that killed hearth dev: 65,535 extents of "the whole
// file" for one Exif item made stripHEIF allocate 65,535 × the file size. The extent
// count of an item is capped (too-complex), and the sum of an item's extents is
// bounded by the file (malformed), so both are refused having allocated about nothing.
func TestHEIFExtentBomb(t *testing.T) {
	for _, c := range []struct {
		extents int
		want    RejectReason
	}{
		{65535, RejectTooComplex},
		{200, RejectMalformed},
		{2, RejectMalformed},
	} {
		data := heicExtentBomb(c.extents, 2000)
		var err error
		assertBoundedAlloc(t, "stripHEIF", len(data), 4, func() { _, _, err = stripHEIF(data) })
		if err == nil {
			t.Fatalf("stripHEIF accepted %d whole-file extents", c.extents)
		}
		var out imageOutput
		assertBoundedAlloc(t, "processImage(heic)", len(data), 4, func() { out, err = processImage("image/heic", data) })
		if got := rejectReason(err); got != c.want {
			t.Fatalf("%d extents: processImage = %+v, %v (reason %q), want reason %q", c.extents, out, err, got, c.want)
		}
	}
}

// manyScanJPEG is a valid progressive grayscale JPEG of w×h (multiples of 8) made of
// one DC scan and scans tiny AC scans (coefficient 1 only, every block empty): a few
// bytes each, and each one makes a decoder walk every block of the image again.
func manyScanJPEG(t testing.TB, w, h, scans int) []byte {
	t.Helper()
	blocks := (w / 8) * (h / 8)
	seg := func(marker byte, payload ...byte) []byte {
		out := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(out[2:], uint16(2+len(payload)))
		return append(out, payload...)
	}
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xD8})
	b.Write(seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...)) // DQT 0, all 1
	b.Write(seg(0xC2, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0))
	// DC table 0: one code "0" for category 0; AC table 0: one code "0" for EOB14
	// (an end-of-band run of 2^14 + 14 more bits: every block of the image).
	dht := []byte{0x00, 1}
	dht = append(dht, make([]byte, 15)...)
	dht = append(dht, 0x00)
	dht = append(dht, 0x10, 1)
	dht = append(dht, make([]byte, 15)...)
	dht = append(dht, 0xE0)
	b.Write(seg(0xC4, dht...))
	// DC scan: one 0 bit per block, padded with 1s.
	b.Write(seg(0xDA, 1, 1, 0x00, 0, 0, 0))
	dc := make([]byte, (blocks+7)/8)
	if blocks%8 != 0 {
		dc[len(dc)-1] = 0xFF >> (blocks % 8)
	}
	b.Write(dc)
	// Each AC scan: code 0, then 14 one bits (a run of 2^14 + 2^14 - 1 blocks), as
	// many times as the image needs, padded with 1 bits and 0xFF stuffed.
	runs := (blocks + 32766) / 32767
	var scan []byte
	var acc uint32
	nbits := 0
	put := func(v uint32, n int) {
		for n > 0 {
			n--
			acc = acc<<1 | (v>>n)&1
			if nbits++; nbits == 8 {
				scan = append(scan, byte(acc))
				if byte(acc) == 0xFF {
					scan = append(scan, 0)
				}
				acc, nbits = 0, 0
			}
		}
	}
	for r := 0; r < runs; r++ {
		put(0x3FFF, 15) // "0" then fourteen 1s
	}
	for nbits != 0 {
		put(1, 1)
	}
	for k := 0; k < scans; k++ {
		b.Write(seg(0xDA, 1, 1, 0x00, 1, 1, 0))
		b.Write(scan)
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// TestJPEGManyScans is the JPEG that pinned a core: thousands of tiny AC scans, each
// a full pass of the decoder over the image. The marker walk counts the scans before
// any decode and refuses the file as too complex.
func TestJPEGManyScans(t *testing.T) {
	data := manyScanJPEG(t, 256, 256, 3000)
	if _, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil {
		t.Fatalf("test JPEG has no valid header: %v", err)
	}
	// The same file with few scans is a valid progressive JPEG (the test builds what
	// a decoder accepts, so the refusal below is about the scan count alone).
	small := manyScanJPEG(t, 256, 256, 3)
	if img, err := jpeg.Decode(bytes.NewReader(small)); err != nil || img.Bounds() != image.Rect(0, 0, 256, 256) {
		t.Fatalf("3-scan JPEG: %v", err)
	}
	if _, err := processImage("image/jpeg", small); err != nil {
		t.Fatalf("processImage(3 scans) = %v, want accepted", err)
	}
	var err error
	assertBoundedAlloc(t, "walkJPEG", len(data), 4, func() { _, err = walkJPEG(data) })
	if got := rejectReason(err); got != RejectTooComplex {
		t.Fatalf("walkJPEG(3000 scans) = %v (reason %q), want reason %q", err, got, RejectTooComplex)
	}
	_, err = processImage("image/jpeg", data)
	if got := rejectReason(err); got != RejectTooComplex {
		t.Fatalf("processImage(3000 scans) = %v (reason %q), want reason %q", err, got, RejectTooComplex)
	}
}

// heicItemBomb is a HEIF file with items Exif items, each located by one extent of
// length 0 ("to the end of the file"): every item alone is within the file, but
// together they cover it items times. pad bytes of mdat make the file that large.
func heicItemBomb(items, pad int) []byte {
	var entries []byte
	entries = append(entries, u16(items)...)
	infes := [][]byte{}
	infe := func(id int, typ string) []byte {
		return box("infe", false, []byte{2, 0, 0, 0}, u16(id), u16(0), []byte(typ), []byte{0})
	}
	infes = append(infes, infe(1, "hvc1"))
	for k := 0; k < items; k++ {
		entries = append(entries, u16(2+k)...) // item id
		entries = append(entries, u16(0)...)   // data reference 0
		entries = append(entries, u16(1)...)   // one extent: the whole file
		infes = append(infes, infe(2+k, "Exif"))
	}
	iloc := box("iloc", true, []byte{0x00, 0x00}, entries) // offset, length, base sizes 0
	iinf := box("iinf", true, append([][]byte{u16(1 + items)}, infes...)...)
	meta := box("meta", true,
		box("hdlr", true, u32(0), []byte("pict"), make([]byte, 12), []byte{0}),
		box("pitm", true, u16(1)),
		iloc,
		iinf,
		box("iprp", false, box("ipco", false, box("ispe", true, u32(64), u32(64))), box("ipma", true, u32(1), u16(1), []byte{1, 0x81})),
	)
	ftyp := box("ftyp", false, []byte("heic"), u32(0), []byte("mif1heic"))
	out := append(ftyp, meta...)
	return append(out, box("mdat", false, make([]byte, pad))...)
}

// TestHEIFItemBomb: the extent bomb spread over many items. Each Exif item's extents
// fit in the file, but blanking them all would allocate and copy items × the file
// size; the metadata items together may cover the file at most once.
func TestHEIFItemBomb(t *testing.T) {
	data := heicItemBomb(2000, 200<<10)
	var err error
	assertBoundedAlloc(t, "stripHEIF", len(data), 4, func() { _, _, err = stripHEIF(data) })
	if !errors.Is(err, errMalformed) {
		t.Fatalf("stripHEIF = %v, want %v", err, errMalformed)
	}
	assertBoundedAlloc(t, "processImage(heic)", len(data), 4, func() { _, err = processImage("image/heic", data) })
	if got := rejectReason(err); got != RejectMalformed {
		t.Fatalf("processImage = %v (reason %q), want reason %q", err, got, RejectMalformed)
	}
}
