package media

import (
	"image"
	"image/draw"
)

// orient returns img transformed so that it shows upright under orientation o (the
// EXIF tag the stored copy will no longer carry). Decoders' own types are rotated
// plane by plane, keeping their layout (a YCbCr photo stays YCbCr, so re-encoding is
// fast); anything else goes through NRGBA.
func orient(img image.Image, o Orientation) image.Image {
	if !o.valid() || o == OrientNormal {
		return img
	}
	b := img.Bounds()
	if b.Min != (image.Point{}) {
		img, b = toNRGBA(img), image.Rect(0, 0, b.Dx(), b.Dy())
	}
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o.swapsAxes() {
		dw, dh = h, w
	}
	dr := image.Rect(0, 0, dw, dh)
	switch src := img.(type) {
	case *image.YCbCr:
		ratio, ok := rotatedRatio(src.SubsampleRatio, o)
		if !ok {
			break
		}
		dst := image.NewYCbCr(dr, ratio)
		rotatePlane(dst.Y, dst.YStride, src.Y, src.YStride, w, h, 1, o)
		cw, ch := chromaSize(src.SubsampleRatio, w, h)
		rotatePlane(dst.Cb, dst.CStride, src.Cb, src.CStride, cw, ch, 1, o)
		rotatePlane(dst.Cr, dst.CStride, src.Cr, src.CStride, cw, ch, 1, o)
		return dst
	case *image.Gray:
		dst := image.NewGray(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 1, o)
		return dst
	case *image.Gray16:
		dst := image.NewGray16(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 2, o)
		return dst
	case *image.RGBA:
		dst := image.NewRGBA(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 4, o)
		return dst
	case *image.NRGBA:
		dst := image.NewNRGBA(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 4, o)
		return dst
	case *image.RGBA64:
		dst := image.NewRGBA64(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 8, o)
		return dst
	case *image.NRGBA64:
		dst := image.NewNRGBA64(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 8, o)
		return dst
	case *image.CMYK:
		dst := image.NewCMYK(dr)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 4, o)
		return dst
	case *image.Paletted:
		dst := image.NewPaletted(dr, src.Palette)
		rotatePlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 1, o)
		return dst
	}
	n := toNRGBA(img)
	dst := image.NewNRGBA(dr)
	rotatePlane(dst.Pix, dst.Stride, n.Pix, n.Stride, w, h, 4, o)
	return dst
}

// toNRGBA copies img into a new zero-based NRGBA image.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// rotatedRatio is the chroma subsampling of a YCbCr image after o: swapping the axes
// swaps horizontal and vertical subsampling. 4:1:1 and 4:1:0 have no swapped form in
// package image.
func rotatedRatio(r image.YCbCrSubsampleRatio, o Orientation) (image.YCbCrSubsampleRatio, bool) {
	switch r {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		return r, true
	case image.YCbCrSubsampleRatio422:
		if o.swapsAxes() {
			return image.YCbCrSubsampleRatio440, true
		}
		return r, true
	case image.YCbCrSubsampleRatio440:
		if o.swapsAxes() {
			return image.YCbCrSubsampleRatio422, true
		}
		return r, true
	}
	return r, false
}

// chromaSize is the size of the Cb and Cr planes of a zero-based w×h YCbCr image.
func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

// rotatePlane writes the w×h plane src (bpp bytes a pixel) into dst transformed by o.
// dst must hold the transformed plane (h×w when o swaps the axes).
func rotatePlane(dst []byte, dstStride int, src []byte, srcStride, w, h, bpp int, o Orientation) {
	for y := 0; y < h; y++ {
		row := src[y*srcStride : y*srcStride+w*bpp]
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case OrientFlipH:
				dx, dy = w-1-x, y
			case OrientRotate180:
				dx, dy = w-1-x, h-1-y
			case OrientFlipV:
				dx, dy = x, h-1-y
			case OrientTranspose:
				dx, dy = y, x
			case OrientRotate90CW:
				dx, dy = h-1-y, x
			case OrientTransverse:
				dx, dy = h-1-y, w-1-x
			case OrientRotate270CW:
				dx, dy = y, w-1-x
			default:
				dx, dy = x, y
			}
			if bpp == 1 {
				dst[dy*dstStride+dx] = row[x]
				continue
			}
			copy(dst[dy*dstStride+dx*bpp:dy*dstStride+dx*bpp+bpp], row[x*bpp:x*bpp+bpp])
		}
	}
}
