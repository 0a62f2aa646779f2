package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"github.com/gen2brain/heic"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// rejectError is a check that failed for good: the upload is rejected (not retried).
type rejectError struct {
	reason RejectReason
	err    error
}

func (e *rejectError) Error() string { return string(e.reason) + ": " + e.err.Error() }
func (e *rejectError) Unwrap() error { return e.err }

func reject(reason RejectReason, format string, args ...any) error {
	return &rejectError{reason: reason, err: fmt.Errorf(format, args...)}
}

// imageOutput is the result of processing one image upload.
type imageOutput struct {
	// Stored replaces the upload (metadata stripped); nil keeps the upload as is.
	Stored []byte
	// Thumb is a JPEG thumbnail.
	Thumb []byte
	// Rendition is a JPEG of the whole picture for clients that cannot show the
	// upload's format (HEIC); nil for the others.
	Rendition []byte
	// Width and Height are the upright (displayed) size.
	Width, Height int
}

// processImage checks, cleans and thumbnails an image of contentType (already
// sniffed to match). Pixel limits are checked on the header before anything is
// decoded. Failures that condemn the upload are *rejectError.
func processImage(contentType string, data []byte) (imageOutput, error) {
	switch contentType {
	case "image/jpeg":
		return processJPEG(data)
	case "image/png":
		return processPNG(data)
	case "image/gif":
		return processGIF(data)
	case "image/webp":
		return processWebP(data)
	case "image/heic":
		return processHEIC(data)
	}
	return imageOutput{}, fmt.Errorf("process image: unsupported type %s", contentType)
}

// checkConfig refuses an image whose header declares more than Hearth decodes.
func checkConfig(cfg image.Config) error {
	w, h := int64(cfg.Width), int64(cfg.Height)
	switch {
	case w <= 0 || h <= 0:
		return reject(RejectUndecodable, "image has no pixels (%d×%d)", w, h)
	case w > MaxSide || h > MaxSide:
		return reject(RejectTooManyPixels, "image %d×%d: a side is over %d pixels", w, h, MaxSide)
	case w*h > MaxPixels:
		return reject(RejectTooManyPixels, "image %d×%d: %d pixels > %d", w, h, w*h, MaxPixels)
	case w*h*bytesPerPixel(cfg.ColorModel) > MaxDecodedBytes:
		return reject(RejectTooManyPixels, "image %d×%d would need %d bytes decoded > %d", w, h, w*h*bytesPerPixel(cfg.ColorModel), MaxDecodedBytes)
	}
	return nil
}

// bytesPerPixel is the memory a decoder's colour model uses per pixel, including the
// copy made when the image is turned (so YCbCr counts twice its 1.5-3 bytes).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel:
		return 2
	case color.Gray16Model:
		return 4
	case color.YCbCrModel:
		return 6
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 8
	case color.RGBA64Model, color.NRGBA64Model:
		return 16
	}
	if _, ok := m.(color.Palette); ok {
		return 2
	}
	return 16
}

func undecodable(err error) error {
	if rej := (*rejectError)(nil); errors.As(err, &rej) {
		return err // a parser's own reason (malformed, too-complex)
	}
	return &rejectError{reason: RejectUndecodable, err: err}
}

func processJPEG(data []byte) (imageOutput, error) {
	// The marker walk first: scan and segment caps, before any decode.
	layout, err := walkJPEG(data)
	if err != nil {
		return imageOutput{}, err
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("jpeg header: %w", err))
	}
	if err := checkConfig(cfg); err != nil {
		return imageOutput{}, err
	}
	if layout.progressive {
		// A progressive decode holds every coefficient as well as the pixels.
		px := int64(cfg.Width) * int64(cfg.Height) * bytesPerPixel(cfg.ColorModel)
		if px+layout.coeffBytes > MaxDecodedBytes {
			return imageOutput{}, reject(RejectTooManyPixels, "progressive jpeg %d×%d would need %d bytes decoded > %d",
				cfg.Width, cfg.Height, px+layout.coeffBytes, MaxDecodedBytes)
		}
	}
	o := parseTIFF(layout.exif).Orientation
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("jpeg: %w", err))
	}
	img = orient(img, o)
	// Re-encoding keeps only pixels: EXIF (GPS, camera, time), XMP, IPTC, comments and
	// any data after the image are gone, and the orientation is now in the pixels.
	// The ICC profile stays (a Display P3 photo would look washed out without it),
	// when it describes what the encoder writes: RGB for colour, GRAY for gray.
	var stored bytes.Buffer
	if err := jpeg.Encode(&stored, img, &jpeg.Options{Quality: StoredJPEGQuality}); err != nil {
		return imageOutput{}, fmt.Errorf("encode jpeg: %w", err)
	}
	icc := layout.icc
	if want := jpegOutputColorSpace(img); iccColorSpace(icc) != want {
		icc = nil
	}
	out, err := withJPEGICC(stored.Bytes(), icc)
	if err != nil {
		return imageOutput{}, fmt.Errorf("encode jpeg: %w", err)
	}
	return finishImage(img, out)
}

// jpegOutputColorSpace is the ICC colour space of what image/jpeg encodes img as.
func jpegOutputColorSpace(img image.Image) string {
	if _, ok := img.(*image.Gray); ok {
		return "GRAY"
	}
	return "RGB "
}

func processPNG(data []byte) (imageOutput, error) {
	layout, err := walkPNG(data)
	if err != nil {
		return imageOutput{}, err
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("png header: %w", err))
	}
	if err := checkConfig(cfg); err != nil {
		return imageOutput{}, err
	}
	o := parseTIFF(layout.exif).Orientation
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("png: %w", err))
	}
	img = orient(img, o)
	// Re-encoding is lossless for PNG and drops every ancillary chunk (eXIf, tEXt,
	// iTXt, zTXt, tIME, ...) but the ICC profile (iCCP, copied as it came), when it
	// describes what the encoder writes. An animated PNG keeps its first frame only.
	var stored bytes.Buffer
	if err := png.Encode(&stored, img); err != nil {
		return imageOutput{}, fmt.Errorf("encode png: %w", err)
	}
	out := stored.Bytes()
	if layout.iccSpace == pngOutputColorSpace(img) {
		out = withPNGChunk(out, layout.iccp)
	}
	return finishImage(img, out)
}

func processGIF(data []byte) (imageOutput, error) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("gif header: %w", err))
	}
	if err := checkConfig(cfg); err != nil {
		return imageOutput{}, err
	}
	stored, _, err := stripGIF(data)
	if err != nil {
		return imageOutput{}, undecodable(err)
	}
	img, err := gif.Decode(bytes.NewReader(stored)) // the first frame only
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("gif: %w", err))
	}
	out, err := finishImage(img, nil)
	out.Width, out.Height = cfg.Width, cfg.Height
	if !bytes.Equal(stored, data) {
		out.Stored = stored
	}
	return out, err
}

func processWebP(data []byte) (imageOutput, error) {
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("webp header: %w", err))
	}
	if err := checkConfig(cfg); err != nil {
		return imageOutput{}, err
	}
	stored, err := stripWebP(data)
	if err != nil {
		return imageOutput{}, undecodable(err)
	}
	img, err := webp.Decode(bytes.NewReader(stored))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("webp: %w", err))
	}
	out, err := finishImage(img, nil)
	if !bytes.Equal(stored, data) {
		out.Stored = stored
	}
	return out, err
}

func processHEIC(data []byte) (imageOutput, error) {
	stored, info, err := stripHEIF(data)
	switch {
	case errors.Is(err, errMetadataUnremovable):
		return imageOutput{}, &rejectError{reason: RejectMetadata, err: err}
	case errors.Is(err, errTooComplex):
		return imageOutput{}, &rejectError{reason: RejectTooComplex, err: err}
	case errors.Is(err, errMalformed):
		return imageOutput{}, &rejectError{reason: RejectMalformed, err: err}
	case err != nil:
		return imageOutput{}, undecodable(err)
	}
	// The pixel limits on the container's declared size (ispe), before decoding. The
	// decoded picture is 4:2:0 YCbCr, already upright (no turned copy): with libheif's
	// own planes about heicBytesPerPixel, which admits a 48 MP iPhone photo.
	if err := checkConfig(image.Config{Width: info.Width, Height: info.Height, ColorModel: color.GrayModel}); err != nil {
		return imageOutput{}, err
	}
	if px := int64(info.Width) * int64(info.Height); px*heicBytesPerPixel > MaxDecodedBytes {
		return imageOutput{}, reject(RejectTooManyPixels, "heic %d×%d would need %d bytes decoded > %d",
			info.Width, info.Height, px*heicBytesPerPixel, MaxDecodedBytes)
	}
	// libheif (with libde265), compiled to WebAssembly and run by wazero, decodes the
	// cleaned copy; it applies the irot/imir transformations, so the picture is
	// upright. Clients that cannot show HEIC get the JPEG rendition.
	img, err := heic.Decode(bytes.NewReader(stored))
	if err != nil {
		return imageOutput{}, undecodable(fmt.Errorf("heic: %w", err))
	}
	if b := img.Bounds(); b.Dx() > MaxSide || b.Dy() > MaxSide || int64(b.Dx())*int64(b.Dy()) > MaxPixels {
		return imageOutput{}, reject(RejectTooManyPixels, "heic decoded to %d×%d", b.Dx(), b.Dy())
	}
	var rendition bytes.Buffer
	if err := jpeg.Encode(&rendition, img, &jpeg.Options{Quality: StoredJPEGQuality}); err != nil {
		return imageOutput{}, fmt.Errorf("encode heic rendition: %w", err)
	}
	out, err := finishImage(img, nil)
	if err != nil {
		return imageOutput{}, err
	}
	out.Rendition = rendition.Bytes()
	if icc := heifICC(stored); iccColorSpace(icc) == jpegOutputColorSpace(img) {
		if out.Rendition, err = withJPEGICC(out.Rendition, icc); err != nil {
			return imageOutput{}, fmt.Errorf("encode heic rendition: %w", err)
		}
	}
	if !bytes.Equal(stored, data) {
		out.Stored = stored
	}
	return out, nil
}

// heicBytesPerPixel is the admission estimate of a HEIC decode per pixel: the Go
// YCbCr copy (1.5) and libheif's and libde265's planes. The WebAssembly memory grows
// by copying, so the real peak is higher (about 1 GiB resident for 48 MP, measured by
// BenchmarkWorkerWorstFile); DefaultWorkerMemory is sized for it.
const heicBytesPerPixel = 5

// finishImage makes the thumbnail of an upright image and fills in its size.
func finishImage(img image.Image, stored []byte) (imageOutput, error) {
	b := img.Bounds()
	thumb, err := encodeThumbnail(img)
	if err != nil {
		return imageOutput{}, err
	}
	return imageOutput{Stored: stored, Thumb: thumb, Width: b.Dx(), Height: b.Dy()}, nil
}

// thumbSize fits w×h into a square of side max, keeping the aspect ratio and never
// enlarging; both sides are at least 1.
func thumbSize(w, h, maxSide int) (int, int) {
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, (h*maxSide+w/2)/w)
	}
	return max(1, (w*maxSide+h/2)/h), maxSide
}

// thumbnail scales img to fit ThumbMaxSide. Transparent pixels become white (JPEG
// has no alpha). A large image is first halved repeatedly while it stays at least
// twice the target: bilinear at exactly 2:1 averages each 2×2 block, so the halvings
// are a mipmap (a box filter, no aliasing) at a small fraction of the cost of
// Catmull-Rom over the whole source (14 ms against 230 ms for 12 MP); Catmull-Rom
// does the last, short step.
func thumbnail(img image.Image) *image.RGBA {
	b := img.Bounds()
	tw, th := thumbSize(b.Dx(), b.Dy(), ThumbMaxSide)
	src, sb := img, b
	if y, ok := img.(*image.YCbCr); ok && b.Min == (image.Point{}) {
		if k := min(b.Dx()/(2*tw), b.Dy()/(2*th)); k >= 2 {
			src = boxReduceYCbCr(y, k)
			sb = src.Bounds()
		}
	}
	for sb.Dx()/2 >= 2*tw && sb.Dy()/2 >= 2*th {
		half := image.NewRGBA(image.Rect(0, 0, sb.Dx()/2, sb.Dy()/2))
		xdraw.ApproxBiLinear.Scale(half, half.Bounds(), src, sb, draw.Src, nil)
		src, sb = half, half.Bounds()
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, sb, draw.Over, nil)
	return dst
}

// boxReduceYCbCr shrinks a zero-based photo by the integer factor k, each output
// pixel the mean of a k×k block (a box filter) of luma and of the chroma samples under
// it: one pass over the planes, without a colour conversion per source pixel.
func boxReduceYCbCr(src *image.YCbCr, k int) *image.RGBA {
	b := src.Bounds()
	hs, vs := 1, 1 // chroma subsampling factors
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	}
	dw, dh := b.Dx()/k, b.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	n := uint32(k * k)
	for dy := 0; dy < dh; dy++ {
		y0 := dy * k
		cy0, cy1 := y0/vs, (y0+k-1)/vs
		for dx := 0; dx < dw; dx++ {
			x0 := dx * k
			var ys uint32
			for y := y0; y < y0+k; y++ {
				for _, v := range src.Y[y*src.YStride+x0 : y*src.YStride+x0+k] {
					ys += uint32(v)
				}
			}
			cx0, cx1 := x0/hs, (x0+k-1)/hs
			var cbs, crs, cn uint32
			for cy := cy0; cy <= cy1; cy++ {
				row := cy * src.CStride
				for cx := cx0; cx <= cx1; cx++ {
					cbs += uint32(src.Cb[row+cx])
					crs += uint32(src.Cr[row+cx])
					cn++
				}
			}
			r, g, bl := color.YCbCrToRGB(uint8((ys+n/2)/n), uint8((cbs+cn/2)/cn), uint8((crs+cn/2)/cn))
			i := dy*dst.Stride + dx*4
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 0xFF
		}
	}
	return dst
}

// encodeThumbnail returns the JPEG thumbnail of img.
func encodeThumbnail(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, thumbnail(img), &jpeg.Options{Quality: ThumbQuality}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}
