package media

import (
	"bytes"
	"encoding/binary"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"
)

// SniffLen is how many leading bytes Sniff looks at (http.DetectContentType's 512).
const SniffLen = 512

// Content types Sniff can return besides the allow-list's.
const (
	sniffAVIF    = "image/avif"
	sniffUnknown = "application/octet-stream"
)

// Sniff returns the content type of data from its leading bytes: the magic numbers of
// the allow-list (JPEG, PNG, GIF, WebP, HEIC, MP4, QuickTime, M4A, AAC, Ogg, MP3, PDF,
// UTF-8 text) in the allow-list's vocabulary, else http.DetectContentType's answer
// without parameters (e.g. "text/html"). It never trusts a name or a declared type.
func Sniff(data []byte) string {
	if len(data) > SniffLen {
		data = data[:SniffLen]
	}
	if t, ok := sniffISOBMFF(data); ok {
		return t
	}
	switch {
	case len(data) >= 8 && isQuickTimeAtom(data[4:8]) && binary.BigEndian.Uint32(data) >= 8:
		return "video/quicktime"
	case bytes.HasPrefix(data, []byte("OggS\x00")):
		return "audio/ogg"
	case bytes.HasPrefix(data, []byte("ID3")):
		return "audio/mpeg"
	case bytes.HasPrefix(data, []byte("ADIF")):
		return "audio/aac"
	case isADTS(data):
		return "audio/aac"
	case isMPEGAudioFrame(data):
		return "audio/mpeg"
	}
	t, _, err := mime.ParseMediaType(http.DetectContentType(data))
	if err != nil {
		return sniffUnknown
	}
	if t == "application/ogg" {
		return "audio/ogg"
	}
	return t
}

// heicBrands are the ftyp brands of HEIF images with HEVC (ISO/IEC 23008-12) that
// phones write as .heic; mif1/msf1 are the generic HEIF brands.
var heicBrands = map[string]bool{
	"heic": true, "heix": true, "hevc": true, "hevx": true, "heim": true, "heis": true,
	"hevm": true, "hevs": true, "mif1": true, "msf1": true,
}

// videoBrands are ISO base media (MP4) brands of video files.
var videoBrands = map[string]bool{
	"isom": true, "iso2": true, "iso3": true, "iso4": true, "iso5": true, "iso6": true,
	"mp41": true, "mp42": true, "avc1": true, "M4V ": true, "M4VH": true, "M4VP": true,
	"dash": true, "mmp4": true, "MSNV": true, "NDAS": true, "f4v ": true,
}

// audioBrands are the brands of MPEG-4 audio (.m4a, .m4b audiobooks, .m4p).
var audioBrands = map[string]bool{"M4A ": true, "M4B ": true, "M4P ": true}

// sniffISOBMFF classifies an ISO base media file by its ftyp box: the major brand
// decides, then the compatible brands.
func sniffISOBMFF(data []byte) (string, bool) {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return "", false
	}
	size := int(binary.BigEndian.Uint32(data))
	if size < 16 || size%4 != 0 {
		return "", false
	}
	end := min(size, len(data))
	brands := []string{string(data[8:12])}
	for i := 16; i+4 <= end; i += 4 {
		brands = append(brands, string(data[i:i+4]))
	}
	classify := func(b string) string {
		switch {
		case b == "avif" || b == "avis":
			return sniffAVIF
		case heicBrands[b]:
			return "image/heic"
		case b == "qt  ":
			return "video/quicktime"
		case audioBrands[b]:
			return "audio/mp4"
		case videoBrands[b]:
			return "video/mp4"
		}
		return ""
	}
	// AVIF is HEIF with AV1: its files often carry mif1 (a HEIF brand) as major.
	for _, b := range brands {
		if classify(b) == sniffAVIF {
			return sniffAVIF, true
		}
	}
	for _, b := range brands {
		if t := classify(b); t != "" {
			return t, true
		}
	}
	return "video/mp4", true // an ISO file of unknown brand: the generic container
}

// isQuickTimeAtom reports whether a first atom type is one a classic QuickTime file
// (without ftyp) starts with.
func isQuickTimeAtom(t []byte) bool {
	switch string(t) {
	case "moov", "mdat", "wide", "free", "skip", "pnot":
		return true
	}
	return false
}

// isADTS reports whether data starts with an AAC ADTS frame header: 12-bit sync,
// layer 0, a valid sampling index and a frame length that fits its header.
func isADTS(data []byte) bool {
	if len(data) < 7 || data[0] != 0xFF || data[1]&0xF6 != 0xF0 {
		return false
	}
	if (data[2]>>2)&0x0F > 12 { // sampling frequency index
		return false
	}
	frameLen := int(data[3]&0x03)<<11 | int(data[4])<<3 | int(data[5])>>5
	return frameLen >= 7
}

// isMPEGAudioFrame reports whether data starts with an MPEG audio (MP3) frame header:
// 11-bit sync, a defined version and layer, a bitrate index that is neither free nor
// bad, and a defined sampling rate.
func isMPEGAudioFrame(data []byte) bool {
	if len(data) < 4 || data[0] != 0xFF || data[1]&0xE0 != 0xE0 {
		return false
	}
	version := (data[1] >> 3) & 0x03
	layer := (data[1] >> 1) & 0x03
	bitrate := data[2] >> 4
	rate := (data[2] >> 2) & 0x03
	return version != 1 && layer != 0 && bitrate != 0 && bitrate != 15 && rate != 3
}

// acceptable lists, for each declared type, the sniffed types that may stand for it:
// containers of one family that apps label loosely (an iPhone .mov is often plain
// MP4; Android writes voice notes as MP4 audio with ISO brands).
var acceptable = map[string][]string{
	"image/jpeg":      {"image/jpeg"},
	"image/png":       {"image/png"},
	"image/webp":      {"image/webp"},
	"image/heic":      {"image/heic"},
	"image/gif":       {"image/gif"},
	"video/mp4":       {"video/mp4"},
	"video/quicktime": {"video/quicktime", "video/mp4"},
	"audio/mp4":       {"audio/mp4", "video/mp4"},
	"audio/aac":       {"audio/aac", "audio/mp4"},
	"audio/ogg":       {"audio/ogg"},
	"audio/mpeg":      {"audio/mpeg"},
	"application/pdf": {"application/pdf"},
	"text/plain":      {"text/plain"},
}

// Matches reports whether bytes sniffed as sniffed may be stored as declared.
func Matches(declared, sniffed string) bool {
	for _, t := range acceptable[declared] {
		if t == sniffed {
			return true
		}
	}
	return false
}

// validUTF8Text reads r to the end and reports whether it is UTF-8 text: valid UTF-8
// with no NUL byte. It streams, so a 50 MiB text file is not held in memory.
func validUTF8Text(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	carry := 0 // bytes of an incomplete rune kept from the previous read
	for {
		n, err := r.Read(buf[carry:])
		n += carry
		chunk := buf[:n]
		// Keep a rune cut by the chunk's end for the next round.
		cut := 0
		if err == nil && n > 0 {
			i := n - 1
			for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(chunk[i]) {
				i--
			}
			if !utf8.FullRune(chunk[i:]) {
				cut = n - i
			}
		}
		body := chunk[:n-cut]
		if bytes.IndexByte(body, 0) >= 0 || !utf8.Valid(body) {
			return false, nil
		}
		copy(buf, chunk[n-cut:])
		carry = cut
		if err == io.EOF {
			return carry == 0, nil
		}
		if err != nil {
			return false, err
		}
	}
}
