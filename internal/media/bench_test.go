package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIssueUpload measures POST /v1/uploads' work in the media package: the
// membership read, the quota transaction and upload record (Firestore emulator), and
// the V4 signature (RSA-2048). uploads/s = 1e9 / ns/op.
func BenchmarkIssueUpload(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.DailyUploads, c.DailyUploadBytes = -1, -1 })
	req := UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 1 << 20}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.svc.Issuer.IssueUpload(b.Context(), f.alice, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
}

// BenchmarkIssueUploadParallel is BenchmarkIssueUpload from 8×GOMAXPROCS goroutines,
// each its own user (quota documents are per user, so they do not contend), as many
// clients at once.
func BenchmarkIssueUploadParallel(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.DailyUploads, c.DailyUploadBytes = -1, -1 })
	users := make([]string, 64)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
	}
	f.seedRoom(f.roomID, false, users...)
	var next atomic.Int32
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		uid := users[int(next.Add(1))%len(users)]
		req := UploadRequest{RoomID: f.roomID, ContentType: "image/jpeg", Size: 1 << 20}
		for pb.Next() {
			if _, err := f.svc.Issuer.IssueUpload(b.Context(), uid, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
}

// BenchmarkSignUploadURL is the signature alone (no Firestore).
func BenchmarkSignUploadURL(b *testing.B) {
	f := newFixture(b)
	exp := time.Now().Add(UploadURLTTL)
	for b.Loop() {
		if _, err := f.svc.Issuer.signer.sign(http.MethodPut, "media/r/u/0123456789abcdef0123456789abcdef.jpg", "image/jpeg",
			[]string{HeaderLengthRange + ":1000,1000", HeaderIfGenerationMatch + ":0"}, nil, exp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBackObject is what HandleFinalize adds to every event: reading the
// stored object's attributes back instead of trusting the event (local storage).
func BenchmarkReadBackObject(b *testing.B) {
	f := newFixture(b)
	_, obj := f.upload(f.alice, "application/pdf", []byte("%PDF-1.4\n"))
	for b.Loop() {
		if _, err := f.svc.Processor.completeObject(b.Context(), Object{Bucket: obj.Bucket, Name: obj.Name}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinalizeDuplicate is a redelivered event of a settled upload: read the
// record, read the object back, find it is the checked generation, re-apply the
// result to the (one) message.
func BenchmarkFinalizeDuplicate(b *testing.B) {
	f := newFixture(b)
	doc := []byte("%PDF-1.4\n")
	tk, obj := f.upload(f.alice, "application/pdf", doc)
	f.writeMessage("m", f.alice, tk, "application/pdf", int64(len(doc)))
	if err := f.svc.Processor.HandleFinalize(b.Context(), obj); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := f.svc.Processor.HandleFinalize(b.Context(), obj); err != nil {
			b.Fatal(err)
		}
	}
}

// photo12MP is a 4000×3000 JPEG with photographic-ish content (gradients and noise, so
// it compresses like a photo, about 2-4 MB at quality 90).
func photo12MP(b *testing.B) []byte {
	b.Helper()
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < 3000; y++ {
		for x := 0; x < 4000; x++ {
			img.Y[img.YOffset(x, y)] = uint8((x/16+y/12)%200 + rng.IntN(40))
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(100 + rng.IntN(30))
		img.Cr[i] = uint8(120 + rng.IntN(30))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return withEXIF(buf.Bytes(), exifTIFF(OrientRotate90CW, true))
}

// BenchmarkThumbnail12MP is the thumbnail of a 12-megapixel JPEG: decode, turn
// upright (EXIF orientation 6) and scale to 320 px, encode the JPEG thumbnail.
func BenchmarkThumbnail12MP(b *testing.B) {
	data := photo12MP(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		img = orient(img, parseTIFF(jpegExif(data)).Orientation)
		if _, err := encodeThumbnail(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessJPEG12MP is all the image work of one 12-megapixel upload: header
// check, decode, turn upright, re-encode without metadata (quality 90), thumbnail.
func BenchmarkProcessJPEG12MP(b *testing.B) {
	data := photo12MP(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := processImage("image/jpeg", data); err != nil {
			b.Fatal(err)
		}
	}
}

// worstFiles are the worst accepted file of each image type Hearth decodes: the most
// pixels (or scans) each gets through the checks with, at most model.MaxImageSize.
// WebP is missing: Go has no WebP encoder to make a large one.
func worstFiles(b *testing.B) []struct {
	name, contentType string
	data              []byte
} {
	b.Helper()
	// 12 MP baseline photo, EXIF orientation 6 (the common case, for reference).
	photo := photo12MP(b)
	// Progressive grayscale 6528×6528 (42.6 MP: pixels and coefficients just under
	// MaxDecodedBytes) with maxJPEGScans scans.
	prog := manyScanJPEG(b, 6528, 6528, maxJPEGScans-1)
	// PNG 4000×4000 RGBA, 16 bits a channel: exactly MaxDecodedBytes decoded.
	big := image.NewNRGBA64(image.Rect(0, 0, 4000, 4000))
	for y := 0; y < 4000; y++ {
		for x := 0; x < 4000; x++ {
			i := big.PixOffset(x, y)
			big.Pix[i], big.Pix[i+2], big.Pix[i+4], big.Pix[i+6] = uint8(x), uint8(y), uint8(x^y), 0xFF
		}
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, big); err != nil {
		b.Fatal(err)
	}
	// GIF 7000×7000 (49 MP, under MaxPixels).
	pal := image.NewPaletted(image.Rect(0, 0, 7000, 7000), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i / 7000 % 256)
	}
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		b.Fatal(err)
	}
	heic, err := os.ReadFile("testdata/big-48mp.heic") // 8000×6000, libheif's heif-enc
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name, contentType string
		data              []byte
	}{
		{"jpeg-12MP-photo", "image/jpeg", photo},
		{"jpeg-progressive-43MP-63scans", "image/jpeg", prog},
		{"png-16MP-rgba64", "image/png", pngBuf.Bytes()},
		{"gif-49MP", "image/gif", gifBuf.Bytes()},
		{"heic-48MP", "image/heic", heic},
	}
}

// BenchmarkWorkerWorstFile runs the worst accepted file of each image type through a
// media worker process with the default limits and reports the child's peak memory
// (rusage maxrss) and CPU time next to those limits.
func BenchmarkWorkerWorstFile(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	w := &worker{path: exe, limits: workerLimits{Memory: DefaultWorkerMemory, CPU: DefaultWorkerCPU}, wall: DefaultWorkerTimeout}
	for _, f := range worstFiles(b) {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(f.data)))
			var peak int64
			var cpu time.Duration
			for b.Loop() {
				out, st, err := w.runStats(b.Context(), opImage, f.contentType, f.data)
				if err != nil {
					b.Fatalf("%s: %v (peak %d MB, cpu %s)", f.name, err, st.MaxRSS>>20, st.CPU)
				}
				if out.Thumb == nil {
					b.Fatalf("%s: no thumbnail", f.name)
				}
				peak, cpu = max(peak, st.MaxRSS), cpu+st.CPU
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(DefaultWorkerMemory)/(1<<20), "limit-MB")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(DefaultWorkerCPU.Seconds(), "limit-cpu-s")
		})
	}
}
