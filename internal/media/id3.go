package media

import (
	"bytes"
	"encoding/binary"
)

// Limits of the MP3 tag walk: how many tags may sit before the audio (ID3v2 tags are
// sometimes stacked by successive taggers) and after it (ID3v1, APE, Lyrics3, an
// appended ID3v2.4).
const (
	maxID3Leading  = 8
	maxID3Trailing = 8
)

// stripID3 returns the MPEG audio of an MP3 without its tags: the ID3v2 tags in
// front (every version, with extended header and footer: the tag's own size covers
// them), and at the end an ID3v1 "TAG" (with an Enhanced "TAG+"), APEv1/v2 tags,
// Lyrics3 v1/v2 and an appended ID3v2.4 tag (found by its "3DI" footer). Tags carry
// titles, comments, pictures and any text frame a tagger chose (GPS included). The
// result is a sub-slice of data: nothing is copied or allocated. Zero padding left
// between a tag and the audio goes too; what is left must start with an MPEG audio
// frame, otherwise the file is rejected as RejectMalformed (so the clean copy sniffs
// as MP3 again). It reports whether anything was removed.
func stripID3(data []byte) ([]byte, bool, error) {
	start, end := 0, len(data)
	for tags := 0; end-start >= 10 && string(data[start:start+3]) == "ID3"; tags++ {
		if tags == maxID3Leading {
			return nil, false, reject(RejectTooComplex, "mp3: more than %d ID3v2 tags", maxID3Leading)
		}
		n, err := id3v2Size(data[start : start+10])
		if err != nil {
			return nil, false, err
		}
		if n > int64(end-start) {
			return nil, false, reject(RejectMalformed, "mp3: ID3v2 tag of %d bytes in %d", n, end-start)
		}
		start += int(n)
	}
	for tags := 0; ; tags++ {
		n, err := trailingTag(data[start:end])
		if err != nil {
			return nil, false, err
		}
		if n == 0 {
			break
		}
		if tags == maxID3Trailing {
			return nil, false, reject(RejectTooComplex, "mp3: more than %d trailing tags", maxID3Trailing)
		}
		end -= n
	}
	audio := start
	for audio < end && data[audio] == 0 {
		audio++
	}
	if !isMPEGAudioFrame(data[audio:end]) {
		return nil, false, reject(RejectMalformed, "mp3: no MPEG audio frame after the tags (byte %d)", audio)
	}
	return data[audio:end], audio != 0 || end != len(data), nil
}

// id3v2Size returns the whole size of the ID3v2 tag whose 10-byte header (or footer:
// the same layout) is h: header, extended header, frames, padding and footer.
func id3v2Size(h []byte) (int64, error) {
	version, flags := h[3], h[5]
	if version < 2 || version > 4 || h[4] == 0xFF {
		return 0, reject(RejectMalformed, "mp3: ID3v2.%d.%d tag", version, h[4])
	}
	var size int64
	for _, b := range h[6:10] {
		if b&0x80 != 0 {
			return 0, reject(RejectMalformed, "mp3: ID3v2 size is not synchsafe")
		}
		size = size<<7 | int64(b)
	}
	size += 10
	if version == 4 && flags&0x10 != 0 { // footer present
		size += 10
	}
	return size, nil
}

// apeFooter is the footer (and header) of an APE tag.
const apeFooterLen = 32

// trailingTag returns the size of the tag that ends data, or 0 if data does not end
// with one.
func trailingTag(data []byte) (int, error) {
	n := len(data)
	switch {
	case n >= 128 && string(data[n-128:n-125]) == "TAG":
		if n >= 128+227 && string(data[n-128-227:n-128-223]) == "TAG+" {
			return 128 + 227, nil
		}
		return 128, nil
	case n >= apeFooterLen && string(data[n-apeFooterLen:n-apeFooterLen+8]) == "APETAGEX":
		f := data[n-apeFooterLen:]
		size := int64(binary.LittleEndian.Uint32(f[12:16])) // items and footer
		if binary.LittleEndian.Uint32(f[20:24])&(1<<31) != 0 {
			size += apeFooterLen // a header too
		}
		if size < apeFooterLen || size > int64(n) {
			return 0, reject(RejectMalformed, "mp3: APE tag of %d bytes in %d", size, n)
		}
		return int(size), nil
	case n >= 15 && string(data[n-9:]) == "LYRICS200":
		var size int
		for _, c := range data[n-15 : n-9] {
			if c < '0' || c > '9' {
				return 0, reject(RejectMalformed, "mp3: Lyrics3v2 size is not a number")
			}
			size = size*10 + int(c-'0')
		}
		size += 15
		if size > n || !bytes.HasPrefix(data[n-size:], []byte("LYRICSBEGIN")) {
			return 0, reject(RejectMalformed, "mp3: Lyrics3v2 tag of %d bytes without its start", size)
		}
		return size, nil
	case n >= 20 && string(data[n-9:]) == "LYRICSEND":
		// Lyrics3 v1: at most 5100 bytes of lyrics between LYRICSBEGIN and LYRICSEND.
		from := max(0, n-9-5100-11)
		i := bytes.LastIndex(data[from:n-9], []byte("LYRICSBEGIN"))
		if i < 0 {
			return 0, reject(RejectMalformed, "mp3: Lyrics3 tag without its start")
		}
		return n - (from + i), nil
	case n >= 20 && string(data[n-10:n-7]) == "3DI":
		size, err := id3v2Size(data[n-10:])
		if err != nil {
			return 0, err
		}
		if size > int64(n) || string(data[n-int(size):n-int(size)+3]) != "ID3" {
			return 0, reject(RejectMalformed, "mp3: appended ID3v2 tag of %d bytes without its header", size)
		}
		return int(size), nil
	}
	return 0, nil
}
