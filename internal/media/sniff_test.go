package media

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

// ftyp builds an ISO BMFF ftyp box followed by a stub box.
func ftyp(major string, compat ...string) []byte {
	payload := [][]byte{[]byte(major), u32(0)}
	for _, c := range compat {
		payload = append(payload, []byte(c))
	}
	return append(box("ftyp", false, payload...), box("mdat", false, []byte{1, 2, 3})...)
}

func TestSniff(t *testing.T) {
	jpg := encodeJPEG(t, quadrantImage(8, 8))
	png := encodePNG(t, quadrantImage(8, 8))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", jpg, "image/jpeg"},
		{"png", png, "image/png"},
		{"gif", gifWithScreen(t, 4, 4), "image/gif"},
		{"webp", webpWithMetadata(t, nil, nil), "image/webp"},
		{"heic major", ftyp("heic", "mif1", "heic"), "image/heic"},
		{"heic mif1 major", ftyp("mif1", "heic"), "image/heic"},
		{"avif", ftyp("avif", "mif1", "avif"), "image/avif"},
		{"avif behind mif1", ftyp("mif1", "avif", "miaf"), "image/avif"},
		{"mp4", ftyp("isom", "isom", "iso2", "avc1", "mp41"), "video/mp4"},
		{"mp4 mp42", ftyp("mp42", "mp42", "isom"), "video/mp4"},
		{"quicktime ftyp", ftyp("qt  ", "qt  "), "video/quicktime"},
		{"quicktime classic", append(u32(16), []byte("moov\x00\x00\x00\x08mvhd")...), "video/quicktime"},
		{"m4a", ftyp("M4A ", "M4A ", "mp42", "isom"), "audio/mp4"},
		{"unknown iso brand", ftyp("abcd", "efgh"), "video/mp4"},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), "audio/ogg"},
		{"mp3 id3", []byte("ID3\x03\x00\x00\x00\x00\x00\x00"), "audio/mpeg"},
		{"mp3 frame", []byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0}, "audio/mpeg"},
		{"aac adts", []byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, "audio/aac"},
		{"aac adif", []byte("ADIF\x00\x00"), "audio/aac"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "application/pdf"},
		{"text", []byte("hello, world\nsecond line"), "text/plain"},
		{"text utf-8", []byte("grüße aus köln ✓"), "text/plain"},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "text/html"},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), "text/xml"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "application/zip"},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00\x00\x00"), "application/octet-stream"},
		{"empty", nil, "text/plain"},
		{"truncated ftyp", []byte("\x00\x00\x00\x18ftyp"), "application/octet-stream"},
	}
	for _, c := range cases {
		if got := Sniff(c.data); got != c.want {
			t.Errorf("Sniff(%s) = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestMatches(t *testing.T) {
	cases := []struct {
		declared, sniffed string
		want              bool
	}{
		{"image/jpeg", "image/jpeg", true},
		{"image/jpeg", "image/png", false},
		{"image/png", "image/jpeg", false},
		{"image/jpeg", "text/plain", false},
		{"image/png", "text/html", false},
		{"image/heic", "image/avif", false},
		{"video/quicktime", "video/mp4", true},
		{"video/mp4", "video/quicktime", false},
		{"audio/mp4", "video/mp4", true},
		{"audio/aac", "audio/mp4", true},
		{"audio/ogg", "audio/ogg", true},
		{"text/plain", "text/html", false},
		{"application/pdf", "application/pdf", true},
		{"image/svg+xml", "text/xml", false},
	}
	for _, c := range cases {
		if got := Matches(c.declared, c.sniffed); got != c.want {
			t.Errorf("Matches(%s, %s) = %v, want %v", c.declared, c.sniffed, got, c.want)
		}
	}
}

func TestValidUTF8Text(t *testing.T) {
	long := strings.Repeat("ünïcødé ✓ 😀 ", 20000) // > one 64 KiB buffer, runes cut at its end
	cases := []struct {
		name string
		data string
		want bool
	}{
		{"ascii", "hello\n", true},
		{"long multibyte", long, true},
		{"nul", "hello\x00world", false},
		{"invalid", "caf\xe9", false},
		{"cut rune at end", "ok \xe2\x9c", false},
		{"nul far in", long + "\x00", false},
		{"empty", "", true},
	}
	for _, c := range cases {
		for _, mode := range []string{"whole", "one byte"} {
			var r = bytes.NewReader([]byte(c.data))
			src := iotestReader(mode, r)
			got, err := validUTF8Text(src)
			if err != nil {
				t.Fatalf("validUTF8Text(%s, %s) error %v", c.name, mode, err)
			}
			if got != c.want {
				t.Errorf("validUTF8Text(%s, %s) = %v, want %v", c.name, mode, got, c.want)
			}
		}
	}
}

func iotestReader(mode string, r *bytes.Reader) interface{ Read([]byte) (int, error) } {
	if mode == "one byte" {
		return iotest.OneByteReader(r)
	}
	return r
}
