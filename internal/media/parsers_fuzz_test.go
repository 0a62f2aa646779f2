package media

import (
	"bytes"
	"os"
	"testing"
)

// The parsers below read bytes any member can upload. Each fuzz target checks that
// the parser never panics and that its heap allocations stay within a small multiple
// of its input plus a constant (runtime.MemStats.TotalAlloc, so a large short-lived
// allocation counts as much as one that is kept). The seed corpus runs in plain
// go test; `go test -fuzz FuzzX` explores further.

func addFixtureSeed(f *testing.F, name string) {
	f.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

func FuzzStripHEIF(f *testing.F) {
	addFixtureSeed(f, "p3-gps.heic")
	f.Add(heicFile(f, append([]byte("\x00\x00\x00\x06Exif\x00\x00"), exifTIFF(OrientRotate90CW, true)...), 4032, 3024, 1))
	f.Add(heicExtentBomb(300, 100))
	f.Add(heicExtentBomb(2, 10))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out []byte
		var err error
		assertBoundedAlloc(t, "stripHEIF", len(data), 8, func() { out, _, err = stripHEIF(data) })
		if err == nil && len(out) != len(data) {
			t.Fatalf("stripHEIF changed the length: %d → %d", len(data), len(out))
		}
		assertBoundedAlloc(t, "heifICC", len(data), 2, func() { heifICC(data) })
	})
}

func FuzzWalkJPEG(f *testing.F) {
	addFixtureSeed(f, "p3-gps.jpg")
	f.Add(manyScanJPEG(f, 64, 64, 70))
	f.Add(manyScanJPEG(f, 16, 16, 3))
	f.Add(withEXIF(encodeJPEG(f, quadrantImage(16, 16)), exifTIFF(OrientRotate270CW, true)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l jpegLayout
		var err error
		assertBoundedAlloc(t, "walkJPEG", len(data), 2, func() { l, err = walkJPEG(data) })
		if err != nil {
			if rejectReason(err) == "" {
				t.Fatalf("walkJPEG error without a reason: %v", err)
			}
			return
		}
		if l.scans > maxJPEGScans || len(l.icc) > maxICCSize || len(l.icc) > len(data) {
			t.Fatalf("walkJPEG passed %d scans, %d ICC bytes", l.scans, len(l.icc))
		}
		if l.icc != nil {
			var enc []byte
			assertBoundedAlloc(t, "withJPEGICC", len(data), 4, func() { enc, err = withJPEGICC([]byte{0xFF, 0xD8, 0xFF, 0xD9}, l.icc) })
			if err != nil {
				t.Fatal(err)
			}
			if back, err := walkJPEG(enc); err != nil || !bytes.Equal(back.icc, l.icc) {
				t.Fatalf("ICC profile does not survive a round trip: %v", err)
			}
		}
	})
}

func FuzzParseTIFF(f *testing.F) {
	for o := OrientNormal; o <= OrientRotate270CW; o++ {
		f.Add(exifTIFF(o, o%2 == 0))
	}
	f.Add([]byte("II*\x00\x08\x00\x00\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var info tiffInfo
		assertBoundedAlloc(t, "parseTIFF", len(data), 1, func() { info = parseTIFF(data) })
		if info.Orientation != 0 && !info.Orientation.valid() {
			t.Fatalf("invalid orientation %d", info.Orientation)
		}
	})
}

func FuzzWalkPNG(f *testing.F) {
	addFixtureSeed(f, "p3-gps.png")
	f.Add(pngWithChunk(f, encodePNG(f, quadrantImage(8, 8)), "eXIf", exifTIFF(OrientRotate180, true)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l pngLayout
		var err error
		// The iCCP check inflates at most 20 bytes, but a zlib reader has a fixed cost
		// (its window) whatever the input.
		assertBoundedAlloc(t, "walkPNG", len(data), 2, func() { l, err = walkPNG(data) })
		if err != nil {
			if rejectReason(err) == "" {
				t.Fatalf("walkPNG error without a reason: %v", err)
			}
			return
		}
		if len(l.iccp) > len(data) || l.chunks > maxPNGChunks {
			t.Fatalf("walkPNG: %d iCCP bytes, %d chunks", len(l.iccp), l.chunks)
		}
	})
}
