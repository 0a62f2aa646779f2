package media

import (
	"encoding/binary"
)

// Orientation is the EXIF orientation tag (0x0112): how the stored pixels must be
// transformed to be shown upright. 1 is upright; 0 means no tag.
type Orientation int

// The EXIF orientations, named by the transform that makes the image upright.
const (
	OrientNormal      Orientation = 1
	OrientFlipH       Orientation = 2 // mirror left-right
	OrientRotate180   Orientation = 3
	OrientFlipV       Orientation = 4 // mirror top-bottom
	OrientTranspose   Orientation = 5 // mirror across the top-left/bottom-right diagonal
	OrientRotate90CW  Orientation = 6
	OrientTransverse  Orientation = 7 // mirror across the top-right/bottom-left diagonal
	OrientRotate270CW Orientation = 8
)

// swapsAxes reports whether o turns a w×h image into h×w.
func (o Orientation) swapsAxes() bool { return o >= OrientTranspose && o <= OrientRotate270CW }

// valid reports whether o is one of the eight orientations.
func (o Orientation) valid() bool { return o >= OrientNormal && o <= OrientRotate270CW }

const (
	tagOrientation = 0x0112
	tagGPSIFD      = 0x8825
	// maxIFDEntries bounds how many entries of one IFD are read: a real IFD0 has a
	// few dozen, and a crafted count must not make the parser loop for long.
	maxIFDEntries = 1000
)

// exifHeader starts the payload of a JPEG APP1 segment that holds EXIF.
var exifHeader = []byte("Exif\x00\x00")

// tiffInfo is what Hearth reads from an EXIF TIFF structure.
type tiffInfo struct {
	Orientation Orientation // 0 when absent or invalid
	HasGPS      bool        // IFD0 points to a GPS IFD
}

// parseTIFF reads IFD0 of an EXIF TIFF structure ("II*\0" or "MM\0*"). Malformed
// input gives the zero tiffInfo: a broken EXIF block is treated as no EXIF.
func parseTIFF(t []byte) tiffInfo {
	var info tiffInfo
	if len(t) < 8 {
		return info
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return info
	}
	if bo.Uint16(t[2:]) != 42 {
		return info
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return info
	}
	n := int(bo.Uint16(t[off:]))
	if n > maxIFDEntries {
		return info
	}
	for k := 0; k < n; k++ {
		e := off + 2 + int64(k)*12
		if e+12 > int64(len(t)) {
			break
		}
		tag, typ, count := bo.Uint16(t[e:]), bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		switch tag {
		case tagOrientation:
			if typ == 3 && count == 1 { // SHORT, value in the entry
				if o := Orientation(bo.Uint16(t[e+8:])); o.valid() {
					info.Orientation = o
				}
			}
		case tagGPSIFD:
			info.HasGPS = true
		}
	}
	return info
}
