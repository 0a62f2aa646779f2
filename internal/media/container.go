package media

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errMalformed reports a container Hearth cannot walk; the upload is rejected as
// undecodable.
var errMalformed = errors.New("malformed container")

// stripGIF removes what a GIF may carry besides the picture: comment extensions,
// application extensions other than the looping ones (XMP, ICC, vendor data), unknown
// extensions, and any bytes after the trailer. Frames, palettes, timing and loop
// count are copied unchanged, so an animation stays an animation without decoding
// all its frames. It returns the new file and its frame count.
func stripGIF(data []byte) ([]byte, int, error) {
	bad := func(what string) ([]byte, int, error) {
		return nil, 0, fmt.Errorf("gif: %s: %w", what, errMalformed)
	}
	if len(data) < 13 || (string(data[:6]) != "GIF87a" && string(data[:6]) != "GIF89a") {
		return bad("no header")
	}
	i := 13
	if packed := data[10]; packed&0x80 != 0 {
		i += 3 << ((packed & 7) + 1)
	}
	if i > len(data) {
		return bad("truncated colour table")
	}
	out := make([]byte, 0, len(data))
	out = append(out, data[:i]...)
	// subBlocks returns the end of the data sub-blocks starting at j.
	subBlocks := func(j int) (int, bool) {
		for j < len(data) {
			n := int(data[j])
			j++
			if n == 0 {
				return j, true
			}
			j += n
		}
		return 0, false
	}
	frames := 0
	for {
		if i >= len(data) {
			return bad("no trailer")
		}
		switch data[i] {
		case 0x3B: // trailer
			out = append(out, 0x3B)
			return out, frames, nil
		case 0x2C: // image descriptor
			if i+10 > len(data) {
				return bad("truncated image descriptor")
			}
			j := i + 10
			if packed := data[i+9]; packed&0x80 != 0 {
				j += 3 << ((packed & 7) + 1)
			}
			j++ // LZW minimum code size
			end, ok := subBlocks(j)
			if !ok {
				return bad("truncated image data")
			}
			out = append(out, data[i:end]...)
			frames++
			i = end
		case 0x21: // extension
			if i+2 > len(data) {
				return bad("truncated extension")
			}
			label := data[i+1]
			end, ok := subBlocks(i + 2)
			if !ok {
				return bad("truncated extension data")
			}
			keep := false
			switch label {
			case 0xF9, 0x01: // graphic control (timing, transparency), plain text
				keep = true
			case 0xFF: // application: keep only the loop count
				if i+14 <= len(data) && data[i+2] == 11 {
					id := string(data[i+3 : i+14])
					keep = id == "NETSCAPE2.0" || id == "ANIMEXTS1.0"
				}
			}
			if keep {
				out = append(out, data[i:end]...)
			}
			i = end
		default:
			return bad(fmt.Sprintf("unknown block 0x%02x", data[i]))
		}
	}
}

// VP8X flags of the metadata a WebP announces.
const (
	webpFlagEXIF = 0x08
	webpFlagXMP  = 0x04
)

// stripWebP removes the EXIF and XMP chunks of a WebP (and their VP8X flags) and any
// bytes after the RIFF data. The image chunks are copied unchanged, so nothing is
// re-encoded (Go has no WebP encoder) and animations survive.
func stripWebP(data []byte) ([]byte, error) {
	bad := func(what string) ([]byte, error) {
		return nil, fmt.Errorf("webp: %s: %w", what, errMalformed)
	}
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return bad("no RIFF WEBP header")
	}
	riffEnd := 8 + int64(binary.LittleEndian.Uint32(data[4:8]))
	if riffEnd > int64(len(data)) {
		return bad("RIFF size beyond the file")
	}
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	for i := int64(12); i < riffEnd; {
		if i+8 > riffEnd {
			return bad("truncated chunk header")
		}
		fourcc := string(data[i : i+4])
		n := int64(binary.LittleEndian.Uint32(data[i+4 : i+8]))
		end := i + 8 + n + n%2 // chunks are padded to an even size
		if end > riffEnd {
			if end-1 == riffEnd && n%2 == 1 { // a missing final pad byte, tolerated
				end = riffEnd
			} else {
				return bad("chunk " + fourcc + " beyond the RIFF data")
			}
		}
		switch fourcc {
		case "EXIF", "XMP ":
			// dropped
		case "VP8X":
			start := len(out)
			out = append(out, data[i:end]...)
			if n >= 1 {
				out[start+8] &^= webpFlagEXIF | webpFlagXMP
			}
		default:
			out = append(out, data[i:end]...)
		}
		i = end
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}
