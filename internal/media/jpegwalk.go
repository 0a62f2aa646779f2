package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

const (
	// maxJPEGScans bounds the scans of a JPEG. A decoder walks every block of the
	// image once per scan, so a few KB of tiny scans cost minutes of CPU. Baseline
	// files have 1 (3 non-interleaved), libjpeg's progressive script 10, mozjpeg's
	// optimised scans about 20.
	maxJPEGScans = 64
	// maxJPEGSegments bounds the marker segments of a JPEG (tables, APPn, comments).
	maxJPEGSegments = 4096
	// maxICCSize is the largest ICC profile carried into a re-encoded image. Display
	// profiles are a few KB; printer profiles with large tables are dropped.
	maxICCSize = 1 << 20
)

// iccHeader starts each APP2 segment that holds a chunk of an ICC profile.
var iccHeader = []byte("ICC_PROFILE\x00")

// jpegLayout is what the marker walk reads from a JPEG without decoding it.
type jpegLayout struct {
	exif        []byte // TIFF payload of the first EXIF APP1 segment, or nil
	icc         []byte // the ICC profile reassembled from its APP2 chunks, or nil
	scans       int
	progressive bool
	// coeffBytes is what a progressive decode keeps besides the pixels: every DCT
	// coefficient of every block (Go's image/jpeg: 64 int32 a block).
	coeffBytes int64
}

// walkJPEG walks the markers of a JPEG, skipping the entropy-coded data of each scan,
// in one pass over the bytes with no allocation beyond the ICC profile. It refuses a
// file over maxJPEGScans or maxJPEGSegments as too complex, and a segment running
// past the end as malformed: a cheap look before anything is decoded.
func walkJPEG(data []byte) (jpegLayout, error) {
	var l jpegLayout
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return l, reject(RejectMalformed, "jpeg: no start of image")
	}
	var iccChunks [][]byte // by sequence number - 1
	iccBad := false
	segments := 0
	i := 2
	for i < len(data) {
		if data[i] != 0xFF || i+1 >= len(data) {
			return l, reject(RejectMalformed, "jpeg: no marker at %d", i)
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8:
			i += 2 // standalone markers
			continue
		case marker == 0xD9: // end of image; anything after it is ignored
			l.icc = assembleICC(iccChunks, iccBad)
			return l, nil
		}
		if segments++; segments > maxJPEGSegments {
			return l, reject(RejectTooComplex, "jpeg: more than %d marker segments", maxJPEGSegments)
		}
		if i+4 > len(data) {
			return l, reject(RejectMalformed, "jpeg: truncated marker segment")
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return l, reject(RejectMalformed, "jpeg: segment %#x of %d bytes past the end", marker, n)
		}
		seg := data[i+4 : i+2+n]
		i += 2 + n
		switch {
		case marker == 0xE1 && l.scans == 0 && l.exif == nil && bytes.HasPrefix(seg, exifHeader):
			l.exif = seg[len(exifHeader):]
		case marker == 0xE2 && l.scans == 0 && bytes.HasPrefix(seg, iccHeader):
			// Chunk seq of count (1-based), in any order; a gap or a repeat drops
			// the profile.
			rest := seg[len(iccHeader):]
			if len(rest) < 2 || rest[0] == 0 || rest[0] > rest[1] {
				iccBad = true
				break
			}
			seq, count := int(rest[0]), int(rest[1])
			if iccChunks == nil {
				iccChunks = make([][]byte, count)
			}
			if len(iccChunks) != count || iccChunks[seq-1] != nil {
				iccBad = true
				break
			}
			iccChunks[seq-1] = rest[2:]
		case marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE:
			l.progressive = true
			l.coeffBytes = jpegCoeffBytes(seg)
		case marker == 0xDA:
			if l.scans++; l.scans > maxJPEGScans {
				return l, reject(RejectTooComplex, "jpeg: more than %d scans", maxJPEGScans)
			}
			// Entropy-coded data runs to the next marker: 0xFF followed by neither a
			// stuffed 0x00 nor a restart marker.
			for i < len(data) {
				if data[i] == 0xFF && i+1 < len(data) {
					next := data[i+1]
					if next != 0x00 && (next < 0xD0 || next > 0xD7) {
						break
					}
				}
				i++
			}
		}
	}
	// No end-of-image marker: the decoder decides whether the data suffices.
	l.icc = assembleICC(iccChunks, iccBad)
	return l, nil
}

// assembleICC joins the chunks of an ICC profile, or returns nil when they are
// inconsistent, incomplete or over maxICCSize.
func assembleICC(chunks [][]byte, bad bool) []byte {
	if bad || len(chunks) == 0 {
		return nil
	}
	total := 0
	for _, c := range chunks {
		if c == nil {
			return nil
		}
		total += len(c)
	}
	if total < 128 || total > maxICCSize { // a profile header alone is 128 bytes
		return nil
	}
	return bytes.Join(chunks, nil)
}

// jpegCoeffBytes is the coefficient memory of a progressive decode of the frame whose
// SOF payload is sof: 64 int32 for each block of each component.
func jpegCoeffBytes(sof []byte) int64 {
	if len(sof) < 6 {
		return 0
	}
	h, w := int64(binary.BigEndian.Uint16(sof[1:])), int64(binary.BigEndian.Uint16(sof[3:]))
	nc := int(sof[5])
	if len(sof) < 6+3*nc || nc == 0 {
		return 0
	}
	hmax, vmax := int64(1), int64(1)
	for c := 0; c < nc; c++ {
		s := sof[6+3*c+1]
		hmax, vmax = max(hmax, int64(s>>4)), max(vmax, int64(s&0x0F))
	}
	mcuX, mcuY := (w+8*hmax-1)/(8*hmax), (h+8*vmax-1)/(8*vmax)
	var blocks int64
	for c := 0; c < nc; c++ {
		s := sof[6+3*c+1]
		blocks += mcuX * int64(s>>4) * mcuY * int64(s&0x0F)
	}
	return blocks * 64 * 4
}

// jpegExif returns the TIFF payload of the first EXIF APP1 segment of a JPEG, or nil.
func jpegExif(data []byte) []byte {
	l, err := walkJPEG(data)
	if err != nil {
		return nil
	}
	return l.exif
}

// withJPEGICC returns the JPEG enc (as image/jpeg writes it: SOI then tables) with the
// ICC profile icc inserted after SOI as APP2 ICC_PROFILE chunks.
func withJPEGICC(enc, icc []byte) ([]byte, error) {
	if len(icc) == 0 {
		return enc, nil
	}
	const chunk = 65535 - 2 - 14 // segment length field, header, seq and count
	count := (len(icc) + chunk - 1) / chunk
	if count > 255 || len(enc) < 2 {
		return nil, fmt.Errorf("icc profile of %d bytes does not fit", len(icc))
	}
	out := make([]byte, 0, len(enc)+len(icc)+count*18)
	out = append(out, enc[:2]...)
	for k := 0; k < count; k++ {
		part := icc[k*chunk : min(len(icc), (k+1)*chunk)]
		out = append(out, 0xFF, 0xE2)
		out = binary.BigEndian.AppendUint16(out, uint16(2+len(iccHeader)+2+len(part)))
		out = append(out, iccHeader...)
		out = append(out, byte(k+1), byte(count))
		out = append(out, part...)
	}
	return append(out, enc[2:]...), nil
}

// iccColorSpace is the data colour space of an ICC profile ("RGB ", "GRAY", "CMYK").
func iccColorSpace(icc []byte) string {
	if len(icc) < 20 {
		return ""
	}
	return string(icc[16:20])
}
