package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
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
