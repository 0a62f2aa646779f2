package media

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"io"
)

const (
	pngSignature = "\x89PNG\r\n\x1a\n"
	// maxPNGChunks bounds the chunks of a PNG (encoders write image data in chunks
	// of 8-64 KB: a 20 MB file has a few thousand).
	maxPNGChunks = 65536
)

// pngLayout is what the chunk walk reads from a PNG without decoding it.
type pngLayout struct {
	exif []byte // payload of the eXIf chunk, or nil
	// iccp is the whole iCCP chunk (length, type, data, CRC), copied as is into the
	// re-encoded file, and iccSpace the colour space its profile describes.
	iccp     []byte
	iccSpace string
	chunks   int
}

// walkPNG walks the chunks of a PNG in one pass: every length is checked against the
// bytes that exist (malformed), and the chunk count is capped (too-complex).
func walkPNG(data []byte) (pngLayout, error) {
	var l pngLayout
	if !bytes.HasPrefix(data, []byte(pngSignature)) {
		return l, reject(RejectMalformed, "png: no signature")
	}
	idat := false
	for i := len(pngSignature); i < len(data); {
		if i+12 > len(data) {
			return l, reject(RejectMalformed, "png: truncated chunk at %d", i)
		}
		n := int64(binary.BigEndian.Uint32(data[i:]))
		end := int64(i) + 12 + n
		if n > 1<<31-1 || end > int64(len(data)) {
			return l, reject(RejectMalformed, "png: chunk of %d bytes at %d past the end", n, i)
		}
		if l.chunks++; l.chunks > maxPNGChunks {
			return l, reject(RejectTooComplex, "png: more than %d chunks", maxPNGChunks)
		}
		typ := string(data[i+4 : i+8])
		body := data[i+8 : i+8+int(n)]
		switch typ {
		case "eXIf":
			if !idat && l.exif == nil { // eXIf must precede the image data
				l.exif = body
			}
		case "iCCP":
			if !idat && l.iccp == nil && n <= maxICCSize {
				if space := pngICCSpace(body); space != "" {
					l.iccp, l.iccSpace = data[i:end], space
				}
			}
		case "IDAT":
			idat = true
		case "IEND":
			return l, nil // anything after it is ignored
		}
		i = int(end)
	}
	return l, nil
}

// pngICCSpace is the colour space of the profile in an iCCP chunk body (name, NUL,
// compression method 0, zlib data), read from the first 20 decompressed bytes only.
func pngICCSpace(body []byte) string {
	k := bytes.IndexByte(body, 0)
	if k < 1 || k > 79 || k+2 > len(body) || body[k+1] != 0 {
		return ""
	}
	zr, err := zlib.NewReader(bytes.NewReader(body[k+2:]))
	if err != nil {
		return ""
	}
	defer zr.Close()
	hdr := make([]byte, 20)
	if _, err := io.ReadFull(zr, hdr); err != nil {
		return ""
	}
	return iccColorSpace(hdr)
}

// withPNGChunk returns the PNG enc (as image/png writes it: signature, IHDR, ...)
// with chunk inserted after IHDR, where iCCP belongs (before PLTE and IDAT).
func withPNGChunk(enc, chunk []byte) []byte {
	const afterIHDR = len(pngSignature) + 12 + 13
	if len(chunk) == 0 || len(enc) < afterIHDR {
		return enc
	}
	out := make([]byte, 0, len(enc)+len(chunk))
	out = append(out, enc[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, enc[afterIHDR:]...)
}

// pngOutputColorSpace is the ICC colour space of what image/png encodes img as.
func pngOutputColorSpace(img image.Image) string {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return "GRAY"
	}
	return "RGB "
}
