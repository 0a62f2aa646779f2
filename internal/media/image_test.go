package media

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"

	"golang.org/x/image/webp"
)

// wantQuadrants is what an upright picture shows, for a stored quadrantImage (red,
// blue / green, yellow) tagged with each EXIF orientation. It follows the EXIF 2.3
// definitions ("the 0th row is the visual ..., the 0th column is the visual ..."),
// worked out by hand, independently of orient's code.
var wantQuadrants = map[Orientation][4]string{
	OrientNormal:      {"red", "blue", "green", "yellow"},
	OrientFlipH:       {"blue", "red", "yellow", "green"},
	OrientRotate180:   {"yellow", "green", "blue", "red"},
	OrientFlipV:       {"green", "yellow", "red", "blue"},
	OrientTranspose:   {"red", "green", "blue", "yellow"},
	OrientRotate90CW:  {"green", "red", "yellow", "blue"},
	OrientTransverse:  {"yellow", "blue", "green", "red"},
	OrientRotate270CW: {"blue", "yellow", "red", "green"},
}

func quadrantNames(img image.Image) [4]string {
	var out [4]string
	for i, c := range quadrants(img) {
		out[i] = colourName(c)
	}
	return out
}

// TestProcessJPEGOrientation stores a 640×320 quadrant photo under each EXIF
// orientation: the stored copy and the thumbnail must show it upright, with the
// upright size, and carry no EXIF any more.
func TestProcessJPEGOrientation(t *testing.T) {
	stored := quadrantImage(640, 320)
	for o := OrientNormal; o <= OrientRotate270CW; o++ {
		t.Run(string(rune('0'+o)), func(t *testing.T) {
			data := withEXIF(encodeJPEG(t, stored), exifTIFF(o, false))
			if got := parseTIFF(jpegExif(data)).Orientation; got != o {
				t.Fatalf("test input orientation = %d, want %d", got, o)
			}
			out, err := processJPEG(data)
			if err != nil {
				t.Fatalf("processJPEG() = %v", err)
			}
			wantW, wantH := 640, 320
			if o.swapsAxes() {
				wantW, wantH = 320, 640
			}
			if out.Width != wantW || out.Height != wantH {
				t.Errorf("size = %d×%d, want %d×%d", out.Width, out.Height, wantW, wantH)
			}
			img, err := jpeg.Decode(bytes.NewReader(out.Stored))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("stored size = %v, want %d×%d", b, wantW, wantH)
			}
			if got := quadrantNames(img); got != wantQuadrants[o] {
				t.Errorf("stored quadrants = %v, want %v", got, wantQuadrants[o])
			}
			if jpegExif(out.Stored) != nil {
				t.Error("stored copy still has EXIF")
			}
			thumb, err := jpeg.Decode(bytes.NewReader(out.Thumb))
			if err != nil {
				t.Fatal(err)
			}
			tw, th := 320, 160
			if o.swapsAxes() {
				tw, th = 160, 320
			}
			if b := thumb.Bounds(); b.Dx() != tw || b.Dy() != th {
				t.Errorf("thumbnail size = %v, want %d×%d", b, tw, th)
			}
			if got := quadrantNames(thumb); got != wantQuadrants[o] {
				t.Errorf("thumbnail quadrants = %v, want %v", got, wantQuadrants[o])
			}
		})
	}
}

// TestOrientPixelTypes turns every pixel layout the decoders produce.
func TestOrientPixelTypes(t *testing.T) {
	src := quadrantImage(6, 4)
	ycc := func(r image.YCbCrSubsampleRatio) image.Image {
		img := image.NewYCbCr(src.Bounds(), r)
		for y := 0; y < 4; y++ {
			for x := 0; x < 6; x++ {
				c := src.RGBAAt(x, y)
				yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
				img.Y[img.YOffset(x, y)] = yy
				img.Cb[img.COffset(x, y)] = cb
				img.Cr[img.COffset(x, y)] = cr
			}
		}
		return img
	}
	draw := func(dst interface {
		image.Image
		Set(x, y int, c color.Color)
	}) image.Image {
		for y := 0; y < 4; y++ {
			for x := 0; x < 6; x++ {
				dst.Set(x, y, src.At(x, y))
			}
		}
		return dst
	}
	cases := map[string]image.Image{
		"rgba":     src,
		"nrgba":    draw(image.NewNRGBA(src.Bounds())),
		"rgba64":   draw(image.NewRGBA64(src.Bounds())),
		"nrgba64":  draw(image.NewNRGBA64(src.Bounds())),
		"cmyk":     draw(image.NewCMYK(src.Bounds())),
		"ycc444":   ycc(image.YCbCrSubsampleRatio444),
		"ycc422":   ycc(image.YCbCrSubsampleRatio422),
		"ycc420":   ycc(image.YCbCrSubsampleRatio420),
		"ycc440":   ycc(image.YCbCrSubsampleRatio440),
		"ycc411":   ycc(image.YCbCrSubsampleRatio411),
		"paletted": draw(image.NewPaletted(src.Bounds(), color.Palette{red, blue, green, yellow})),
		"offset":   draw(offsetRGBA{image.NewRGBA(image.Rect(10, 20, 16, 24))}),
		"gray":     image.NewGray(src.Bounds()),
	}
	for name, img := range cases {
		for o := OrientNormal; o <= OrientRotate270CW; o++ {
			got := orient(img, o)
			w, h := 6, 4
			if o.swapsAxes() {
				w, h = 4, 6
			}
			if b := got.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Errorf("orient(%s, %d) size = %v, want %d×%d", name, o, b, w, h)
				continue
			}
			// Chroma subsampling blurs colours at quadrant edges; the quadrant
			// centres of a 6×4 image are exact for full-resolution layouts.
			if name == "gray" {
				continue // all black: only the size says anything
			}
			if name == "ycc444" || !isYCbCr(img) {
				if q := quadrantNames(got); q != wantQuadrants[o] {
					t.Errorf("orient(%s, %d) quadrants = %v, want %v", name, o, q, wantQuadrants[o])
				}
			}
		}
	}
}

func isYCbCr(img image.Image) bool { _, ok := img.(*image.YCbCr); return ok }

// offsetRGBA is an RGBA image whose bounds do not start at 0,0; Set takes zero-based
// coordinates.
type offsetRGBA struct{ *image.RGBA }

func (o offsetRGBA) Set(x, y int, c color.Color) {
	o.RGBA.Set(x+o.Rect.Min.X, y+o.Rect.Min.Y, c)
}

// TestStripGPS checks that location metadata is gone from every rewritten format.
func TestStripGPS(t *testing.T) {
	tiff := exifTIFF(OrientNormal, true)
	if !parseTIFF(tiff).HasGPS {
		t.Fatal("test EXIF has no GPS")
	}
	cases := []struct {
		name, contentType string
		data              []byte
		w, h              int
	}{
		{"jpeg", "image/jpeg", withEXIF(encodeJPEG(t, quadrantImage(64, 64)), tiff), 64, 64},
		{"png eXIf", "image/png", pngWithChunk(t, encodePNG(t, quadrantImage(64, 64)), "eXIf", tiff), 64, 64},
		{"png tEXt", "image/png", pngWithChunk(t, encodePNG(t, quadrantImage(64, 64)), "tEXt", []byte("Location\x00"+gpsMarker)), 64, 64},
		{"webp", "image/webp", webpWithMetadata(t, tiff, []byte("<x:xmpmeta>"+gpsMarker+"</x:xmpmeta>")), 1, 1},
		{"gif", "image/gif", gifWithMetadata(t, []byte(gpsMarker)), 64, 64},
		{"heic", "image/heic", heicWithMarkedExif(t), 64, 48},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if out, err := processImage(c.contentType, c.data); err == nil && (out.Width != c.w || out.Height != c.h) {
				t.Errorf("size = %d×%d, want %d×%d", out.Width, out.Height, c.w, c.h)
			}
			if !bytes.Contains(c.data, []byte("HEARTH-GPS")) {
				t.Fatal("test input has no GPS marker")
			}
			if got := Sniff(c.data); got != c.contentType {
				t.Fatalf("Sniff(input) = %s, want %s", got, c.contentType)
			}
			out, err := processImage(c.contentType, c.data)
			if err != nil {
				t.Fatalf("processImage() = %v", err)
			}
			if out.Stored == nil {
				t.Fatal("processImage kept the upload as is, want a cleaned copy")
			}
			if bytes.Contains(out.Stored, []byte("HEARTH-GPS")) {
				t.Error("stored copy still contains the GPS position")
			}
			if bytes.Contains(out.Stored, []byte("HearthCam")) {
				t.Error("stored copy still contains the camera model")
			}
			if got := Sniff(out.Stored); got != c.contentType {
				t.Errorf("Sniff(stored) = %s, want %s", got, c.contentType)
			}
			if c.contentType == "image/heic" {
				if len(out.Stored) != len(c.data) {
					t.Errorf("heic length = %d, want unchanged %d", len(out.Stored), len(c.data))
				}
				if out.Thumb == nil || out.Rendition == nil {
					t.Error("heic got no thumbnail or no JPEG rendition")
				}
			}
			if _, _, err := image.Decode(bytes.NewReader(out.Stored)); err != nil {
				t.Errorf("stored copy does not decode: %v", err)
			}
			if c.contentType == "image/webp" && webpHasMetadata(out.Stored) {
				t.Error("webp still has an EXIF or XMP chunk")
			}
			if out.Thumb == nil {
				t.Error("no thumbnail")
			}
		})
	}
}

// heicWithMarkedExif is the libheif-encoded fixture p3-gps.heic with its Exif item's
// payload overwritten (same length) by the markers TestStripGPS looks for.
func heicWithMarkedExif(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/p3-gps.heic")
	if err != nil {
		t.Fatal(err)
	}
	info, err := parseHEIF(data)
	if err != nil || len(info.Metadata) != 1 || info.Metadata[0].loc == nil {
		t.Fatalf("fixture: %+v, %v", info, err)
	}
	e := info.Metadata[0].loc.extents[0]
	marked := bytes.Repeat([]byte("HEARTH-GPS HearthCam "), 10)
	copy(data[e[0]+4:e[1]], marked) // after the Exif item's TIFF offset
	return data
}

// TestDecompressionBomb feeds images whose headers declare more pixels than Hearth
// decodes. They must be refused from the header, before any pixel buffer exists:
// the memory allocated while refusing stays far below a decoded image.
func TestDecompressionBomb(t *testing.T) {
	cases := []struct {
		name, contentType string
		data              []byte
	}{
		{"png 8000x8000 all zero", "image/png", zeroPNG(t, 8000, 8000, 0, 8)},
		{"png 16-bit rgba 6000x6000", "image/png", pngHeaderOnly(t, 6000, 6000, 6, 16)},
		{"png 1x60000", "image/png", pngHeaderOnly(t, 1, 60000, 0, 8)},
		{"jpeg 30000x30000", "image/jpeg", jpegWithSize(t, 30000, 30000)},
		{"gif 20000x20000", "image/gif", gifWithScreen(t, 20000, 20000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := processImage(c.contentType, c.data)
			runtime.ReadMemStats(&after)
			var rej *rejectError
			if !errors.As(err, &rej) || rej.reason != RejectTooManyPixels {
				t.Fatalf("processImage() = %v, want a %s rejection", err, RejectTooManyPixels)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("refused with %d KB allocated", alloc>>10)
			if alloc > 8<<20 {
				t.Errorf("refusing allocated %d bytes, want < 8 MiB (nothing decoded)", alloc)
			}
		})
	}
}

// TestProcessImageUndecodable: a file cut inside a marker segment, or whose segment
// lengths run past the end, is malformed; entropy-coded data that does not decode is
// undecodable.
func TestProcessImageUndecodable(t *testing.T) {
	good := encodeJPEG(t, quadrantImage(32, 32))
	broken := append(append([]byte{}, good[:len(good)/3]...), bytes.Repeat([]byte{0x55}, 100)...)
	garbled := append([]byte{}, good...)
	for i := len(garbled) - 40; i < len(garbled)-2; i++ {
		garbled[i] = 0xFF // entropy data: a run of markers the decoder cannot take
	}
	cases := map[string]struct {
		data []byte
		want RejectReason
	}{
		"truncated jpeg":    {broken, RejectMalformed},
		"no header":         {[]byte("\xff\xd8\xff garbage"), RejectMalformed},
		"garbled scan data": {garbled, RejectUndecodable},
	}
	for name, c := range cases {
		_, err := processImage("image/jpeg", c.data)
		var rej *rejectError
		if !errors.As(err, &rej) || rej.reason != c.want {
			t.Errorf("processImage(%s) = %v, want %s", name, err, c.want)
		}
	}
}

func TestThumbSize(t *testing.T) {
	cases := []struct{ w, h, tw, th int }{
		{4000, 3000, 320, 240},
		{3000, 4000, 240, 320},
		{320, 320, 320, 320},
		{100, 50, 100, 50},
		{10000, 10, 320, 1},
		{10, 10000, 1, 320},
		{321, 320, 320, 319},
	}
	for _, c := range cases {
		if tw, th := thumbSize(c.w, c.h, 320); tw != c.tw || th != c.th {
			t.Errorf("thumbSize(%d, %d) = %d, %d, want %d, %d", c.w, c.h, tw, th, c.tw, c.th)
		}
	}
}

// TestThumbnailBoxReduce compares the fast path for photos with plain Catmull-Rom.
func TestThumbnailBoxReduce(t *testing.T) {
	src := quadrantImage(2000, 1500)
	photo, err := jpeg.Decode(bytes.NewReader(encodeJPEG(t, src)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := photo.(*image.YCbCr); !ok {
		t.Fatalf("decoded %T, want *image.YCbCr", photo)
	}
	th := thumbnail(photo)
	if b := th.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
		t.Fatalf("thumbnail size = %v, want 320×240", b)
	}
	if got := quadrantNames(th); got != wantQuadrants[OrientNormal] {
		t.Errorf("thumbnail quadrants = %v, want %v", got, wantQuadrants[OrientNormal])
	}
}

// --- generators ------------------------------------------------------------------

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	out := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(out, uint32(len(data)))
	copy(out[4:], typ)
	out = append(out, data...)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	return binary.BigEndian.AppendUint32(out, crc.Sum32())
}

// pngWithChunk inserts a chunk right after IHDR.
func pngWithChunk(t testing.TB, p []byte, typ string, data []byte) []byte {
	t.Helper()
	const ihdrEnd = 8 + 25
	out := append([]byte{}, p[:ihdrEnd]...)
	out = append(out, pngChunk(typ, data)...)
	return append(out, p[ihdrEnd:]...)
}

func ihdr(w, h int, colorType, depth byte) []byte {
	d := make([]byte, 13)
	binary.BigEndian.PutUint32(d, uint32(w))
	binary.BigEndian.PutUint32(d[4:], uint32(h))
	d[8], d[9] = depth, colorType
	return pngChunk("IHDR", d)
}

// zeroPNG is a complete, valid w×h PNG of zero bytes: a real decompression bomb (a
// few hundred KB that decode to w*h bytes or more).
func zeroPNG(t testing.TB, w, h int, colorType, depth byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+w) // filter byte + 8-bit gray samples
	for y := 0; y < h; y++ {
		zw.Write(row)
	}
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, ihdr(w, h, colorType, depth)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// pngHeaderOnly is a PNG whose IHDR declares w×h and whose data is a stub.
func pngHeaderOnly(t testing.TB, w, h int, colorType, depth byte) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, ihdr(w, h, colorType, depth)...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00})...)
	return append(out, pngChunk("IEND", nil)...)
}

// jpegWithSize is a small JPEG whose SOF0 claims w×h.
func jpegWithSize(t testing.TB, w, h int) []byte {
	t.Helper()
	data := encodeJPEG(t, quadrantImage(16, 16))
	for i := 2; i+9 < len(data); {
		if data[i] != 0xFF {
			t.Fatal("jpeg walk lost sync")
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if data[i+1] == 0xC0 {
			binary.BigEndian.PutUint16(data[i+5:], uint16(h))
			binary.BigEndian.PutUint16(data[i+7:], uint16(w))
			return data
		}
		i += 2 + n
	}
	t.Fatal("no SOF0")
	return nil
}

// gifWithScreen is a one-frame GIF whose logical screen is w×h.
func gifWithScreen(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	binary.LittleEndian.PutUint16(data[6:], uint16(w))
	binary.LittleEndian.PutUint16(data[8:], uint16(h))
	return data
}

// gifWithMetadata is a two-frame looping GIF with a comment and an XMP application
// extension holding marker.
func gifWithMetadata(t testing.TB, marker []byte) []byte {
	t.Helper()
	pal := color.Palette{red, blue, green, yellow}
	var frames []*image.Paletted
	for i := 0; i < 2; i++ {
		f := image.NewPaletted(image.Rect(0, 0, 64, 64), pal)
		draw := quadrantImage(64, 64)
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				f.Set(x, y, draw.At(x, y))
			}
		}
		frames = append(frames, f)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: frames, Delay: []int{10, 10}, LoopCount: 0}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Insert before the trailer: a comment and an XMP application extension.
	ext := []byte{0x21, 0xFE, byte(len(marker))}
	ext = append(ext, marker...)
	ext = append(ext, 0)
	ext = append(ext, 0x21, 0xFF, 11)
	ext = append(ext, "XMP DataXMP"...)
	ext = append(ext, byte(len(marker)))
	ext = append(ext, marker...)
	ext = append(ext, 0)
	out := append([]byte{}, data[:len(data)-1]...)
	out = append(out, ext...)
	out = append(out, 0x3B)
	out = append(out, []byte("trailing "+string(marker))...)
	if g, err := gif.DecodeAll(bytes.NewReader(out)); err != nil || len(g.Image) != 2 {
		t.Fatalf("test gif does not decode: %v", err)
	}
	return out
}

// webpAlpha is a valid 1×1 extended (VP8X + ALPH + VP8) WebP.
const webpAlpha = "UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABWUDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA=="

// webpWithMetadata returns the 1×1 webpAlpha with EXIF and XMP chunks (and their
// VP8X flags). Go has no WebP encoder, so the picture stays 1×1.
func webpWithMetadata(t testing.TB, exif, xmp []byte) []byte {
	t.Helper()
	base, err := base64.StdEncoding.DecodeString(webpAlpha)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(fourcc string, data []byte) []byte {
		out := append([]byte(fourcc), 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(out[4:], uint32(len(data)))
		out = append(out, data...)
		if len(data)%2 == 1 {
			out = append(out, 0)
		}
		return out
	}
	out := append([]byte{}, base...)
	out[20] |= webpFlagEXIF | webpFlagXMP // VP8X flags (RIFF 12 + chunk header 8)
	out = append(out, chunk("EXIF", exif)...)
	out = append(out, chunk("XMP ", xmp)...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	if _, err := webp.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("test webp does not decode: %v", err)
	}
	return out
}

// box encodes an ISO BMFF box; full adds version 0 and flags.
func box(typ string, full bool, payload ...[]byte) []byte {
	var body []byte
	if full {
		body = append(body, 0, 0, 0, 0)
	}
	for _, p := range payload {
		body = append(body, p...)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	out = append(out, typ...)
	return append(out, body...)
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// heicFile builds a HEIF container like a phone's: a primary hvc1 item (fake coded
// data) with ispe w×h and irot (angle × 90° anticlockwise), and an Exif item. Only
// the container is real; nothing here decodes as HEVC.
func heicFile(t testing.TB, exif []byte, w, h, angle int) []byte {
	t.Helper()
	coded := bytes.Repeat([]byte{0xAB}, 64)
	build := func(mdatStart int) []byte {
		infe := func(id int, typ string) []byte {
			b := box("infe", false, []byte{2, 0, 0, 0}, u16(id), u16(0), []byte(typ), []byte{0})
			return b
		}
		iloc := box("iloc", true,
			[]byte{0x44, 0x00}, // offset_size 4, length_size 4, base_offset_size 0
			u16(2),
			u16(1), u16(0), u16(1), u32(mdatStart+8), u32(len(coded)),
			u16(2), u16(0), u16(1), u32(mdatStart+8+len(coded)), u32(len(exif)),
		)
		ipco := box("ipco", false,
			box("ispe", true, u32(w), u32(h)),
			box("irot", false, []byte{byte(angle)}),
		)
		ipma := box("ipma", true, u32(1), u16(1), []byte{2, 0x81, 0x02})
		meta := box("meta", true,
			box("hdlr", true, u32(0), []byte("pict"), make([]byte, 12), []byte{0}),
			box("pitm", true, u16(1)),
			iloc,
			box("iinf", true, u16(2), infe(1, "hvc1"), infe(2, "Exif")),
			box("iprp", false, ipco, ipma),
		)
		ftyp := box("ftyp", false, []byte("heic"), u32(0), []byte("mif1heic"))
		out := append(ftyp, meta...)
		return append(out, box("mdat", false, coded, exif)...)
	}
	first := build(0)
	mdatStart := len(first) - (8 + len(coded) + len(exif))
	out := build(mdatStart)
	if len(out) != len(first) {
		t.Fatal("heic layout moved")
	}
	return out
}

func TestParseHEIF(t *testing.T) {
	exif := append([]byte("\x00\x00\x00\x06Exif\x00\x00"), exifTIFF(OrientNormal, true)...)
	data := heicFile(t, exif, 4032, 3024, 0)
	info, err := parseHEIF(data)
	if err != nil {
		t.Fatalf("parseHEIF() = %v", err)
	}
	if info.Width != 4032 || info.Height != 3024 {
		t.Errorf("size = %d×%d, want 4032×3024", info.Width, info.Height)
	}
	if len(info.Metadata) != 1 || info.Metadata[0].kind != "Exif" || info.Metadata[0].loc == nil {
		t.Fatalf("metadata = %+v, want one located Exif item", info.Metadata)
	}
	e := info.Metadata[0].loc.extents[0]
	if !bytes.Equal(data[e[0]:e[1]], exif) {
		t.Error("Exif extent does not point at the Exif payload")
	}
	stored, _, err := stripHEIF(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored[e[0]:e[0]+int64(len(emptyExifItem))], emptyExifItem) {
		t.Error("Exif payload not replaced by an empty EXIF structure")
	}
	if !bytes.Equal(stored[:e[0]], data[:e[0]]) {
		t.Error("bytes before the Exif payload changed")
	}
	// A truncated file cuts the Exif payload (it is last): never stored, never a panic.
	for n := 0; n < len(data); n++ {
		if _, _, err := stripHEIF(data[:n]); err == nil {
			t.Errorf("stripHEIF(first %d bytes) = nil error, want an error", n)
		}
	}
}

func TestStripGIFKeepsAnimation(t *testing.T) {
	data := gifWithMetadata(t, []byte(gpsMarker))
	out, frames, err := stripGIF(data)
	if err != nil {
		t.Fatal(err)
	}
	if frames != 2 {
		t.Errorf("frames = %d, want 2", frames)
	}
	g, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("stripped gif does not decode: %v", err)
	}
	if len(g.Image) != 2 || g.LoopCount != 0 || g.Delay[1] != 10 {
		t.Errorf("stripped gif = %d frames, loop %d, delays %v; want 2 frames looping forever, 10", len(g.Image), g.LoopCount, g.Delay)
	}
}

func TestPNGExifOrientation(t *testing.T) {
	data := pngWithChunk(t, encodePNG(t, quadrantImage(64, 32)), "eXIf", exifTIFF(OrientRotate90CW, false))
	out, err := processPNG(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out.Stored))
	if err != nil {
		t.Fatal(err)
	}
	if got := quadrantNames(img); got != wantQuadrants[OrientRotate90CW] || out.Width != 32 || out.Height != 64 {
		t.Errorf("stored = %d×%d %v, want 32×64 %v", out.Width, out.Height, got, wantQuadrants[OrientRotate90CW])
	}
}
