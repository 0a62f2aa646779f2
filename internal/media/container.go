package media

import (
	"encoding/binary"
	"errors"
)

// errMalformed reports a container Hearth cannot walk; the upload is rejected as
// undecodable.
var errMalformed = errors.New("malformed container")

// Caps of the GIF and WebP walks. Both are linear in the file; the caps keep a file
// of tiny blocks from costing more than a real picture. A GIF of more frames or
// blocks, a WebP of more chunks, is rejected as RejectTooComplex.
const (
	maxGIFFrames  = 10_000
	maxGIFBlocks  = 100_000 // frames and extensions
	maxWebPChunks = 20_000  // chunks, the sub-chunks of animation frames included
)

// gifLoopApps are the application extensions that carry the loop count.
var gifLoopApps = map[string]bool{"NETSCAPE2.0": true, "ANIMEXTS1.0": true}

// stripGIF removes what a GIF may carry besides the picture: comment and plain-text
// extensions, application extensions other than the loop count (XMP, ICC, vendor
// data), unknown extensions, extra sub-blocks hidden after the fixed ones of the
// kept extensions, and any bytes after the trailer. Frames, palettes, timing and loop
// count are copied unchanged, so an animation stays an animation without decoding
// all its frames. It returns the new file (never longer than data) and its frame
// count. A file that cannot be walked is rejected as RejectMalformed, one over
// maxGIFFrames or maxGIFBlocks as RejectTooComplex.
func stripGIF(data []byte) ([]byte, int, error) {
	bad := func(format string, args ...any) ([]byte, int, error) {
		return nil, 0, reject(RejectMalformed, "gif: "+format, args...)
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
	frames, blocks := 0, 0
	for {
		if i >= len(data) {
			return bad("no trailer")
		}
		if blocks++; blocks > maxGIFBlocks {
			return nil, 0, reject(RejectTooComplex, "gif: more than %d blocks", maxGIFBlocks)
		}
		switch data[i] {
		case 0x3B: // trailer
			out = append(out, 0x3B)
			return out, frames, nil
		case 0x2C: // image descriptor
			if frames++; frames > maxGIFFrames {
				return nil, 0, reject(RejectTooComplex, "gif: more than %d frames", maxGIFFrames)
			}
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
			switch first := data[i+2]; {
			case label == 0xF9 && first == 4 && i+7 < end:
				// Graphic control (timing, transparency): its one 4-byte block.
				out = append(out, data[i:i+7]...)
				out = append(out, 0)
			case label == 0xFF && first == 11 && i+17 < end && gifLoopApps[string(data[i+3:i+14])] &&
				data[i+14] == 3 && data[i+15] == 1:
				// The loop count: the identifier block and the 3-byte loop block.
				out = append(out, data[i:i+18]...)
				out = append(out, 0)
			}
			i = end
		default:
			return bad("unknown block 0x%02x at byte %d", data[i], i)
		}
	}
}

// VP8X flags (the first byte of its payload: reserved:2 ICC alpha EXIF XMP
// animation reserved:1).
const (
	webpFlagICC   = 0x20
	webpFlagAlpha = 0x10
	webpFlagEXIF  = 0x08
	webpFlagXMP   = 0x04
	webpFlagAnim  = 0x02
)

// webpKeep are the chunks a WebP needs to render: the bitstreams (VP8 lossy, VP8L
// lossless), alpha, animation parameters and frames, and the colour profile (a
// Display P3 picture must not look washed out). VP8X is handled apart.
var webpKeep = map[string]bool{"VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}

// webpFrameKeep are the sub-chunks of an animation frame (ANMF) that render.
var webpFrameKeep = map[string]bool{"VP8 ": true, "VP8L": true, "ALPH": true}

// anmfHeaderLen is the fixed part of an ANMF payload (position, size, duration,
// flags) before its sub-chunks.
const anmfHeaderLen = 16

// stripWebP keeps only the chunks of a WebP that render (webpKeep, and in animation
// frames webpFrameKeep): EXIF, XMP and every unknown chunk go, the VP8X flags are set
// to what remains (no EXIF/XMP, ICC only with an ICCP chunk, reserved bits and bytes
// zero), padding bytes are zeros and anything after the RIFF data is dropped. The
// image chunks are copied unchanged, so nothing is re-encoded (Go has no WebP encoder)
// and animations survive. The result is never longer than data plus one pad byte. A
// file that cannot be walked is rejected as RejectMalformed, one of more than
// maxWebPChunks chunks as RejectTooComplex.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, reject(RejectMalformed, "webp: no RIFF WEBP header")
	}
	riffEnd := 8 + int64(binary.LittleEndian.Uint32(data[4:8]))
	if riffEnd > int64(len(data)) {
		return nil, reject(RejectMalformed, "webp: RIFF size %d beyond the file's %d bytes", riffEnd, len(data))
	}
	w := webpWalk{data: data, out: make([]byte, 12, len(data)+1)}
	copy(w.out, data[:12])
	vp8x, images, iccp := -1, 0, false
	err := w.chunks(12, riffEnd, func(fourcc string, start, end int64) error {
		switch {
		case fourcc == "VP8X":
			if start != 12 || end-start != 8+10 {
				return reject(RejectMalformed, "webp: VP8X chunk of %d bytes at byte %d", end-start-8, start)
			}
			vp8x = len(w.out)
			w.out = append(w.out, data[start:end]...)
		case fourcc == "ANMF":
			images++
			if end-start < 8+anmfHeaderLen {
				return reject(RejectMalformed, "webp: ANMF chunk of %d bytes", end-start-8)
			}
			at := len(w.out)
			w.out = append(w.out, data[start:start+8+anmfHeaderLen]...)
			err := w.chunks(start+8+anmfHeaderLen, end, func(fourcc string, s, e int64) error {
				if webpFrameKeep[fourcc] {
					w.appendChunk(s, e)
				}
				return nil
			})
			if err != nil {
				return err
			}
			binary.LittleEndian.PutUint32(w.out[at+4:], uint32(len(w.out)-at-8))
		case webpKeep[fourcc]:
			if fourcc == "VP8 " || fourcc == "VP8L" {
				images++
			}
			iccp = iccp || fourcc == "ICCP"
			w.appendChunk(start, end)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if images == 0 {
		return nil, reject(RejectMalformed, "webp: no image chunk")
	}
	if vp8x >= 0 {
		flags := w.out[vp8x+8] & (webpFlagAlpha | webpFlagAnim)
		if iccp {
			flags |= webpFlagICC
		}
		w.out[vp8x+8] = flags
		w.out[vp8x+9], w.out[vp8x+10], w.out[vp8x+11] = 0, 0, 0
	}
	binary.LittleEndian.PutUint32(w.out[4:8], uint32(len(w.out)-8))
	return w.out, nil
}

// webpWalk walks the RIFF chunks of a WebP and builds its cleaned copy.
type webpWalk struct {
	data   []byte
	out    []byte
	walked int // chunks seen
}

// chunks calls fn for each chunk between from and to (its header's offset and its
// end, without the pad byte).
func (w *webpWalk) chunks(from, to int64, fn func(fourcc string, start, end int64) error) error {
	for i := from; i < to; {
		if w.walked++; w.walked > maxWebPChunks {
			return reject(RejectTooComplex, "webp: more than %d chunks", maxWebPChunks)
		}
		if i+8 > to {
			return reject(RejectMalformed, "webp: truncated chunk header at byte %d", i)
		}
		fourcc := string(w.data[i : i+4])
		end := i + 8 + int64(binary.LittleEndian.Uint32(w.data[i+4:i+8]))
		if end > to {
			return reject(RejectMalformed, "webp: chunk %q of %d bytes beyond its container", fourcc, end-i-8)
		}
		if err := fn(fourcc, i, end); err != nil {
			return err
		}
		i = end + end%2 // chunks are padded to an even size (a missing final pad is tolerated)
	}
	return nil
}

// appendChunk copies the chunk data[start:end] to the output with a zero pad byte
// when its size is odd.
func (w *webpWalk) appendChunk(start, end int64) {
	w.out = append(w.out, w.data[start:end]...)
	if (end-start)%2 == 1 {
		w.out = append(w.out, 0)
	}
}
