package media

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// mp3Frame is one MPEG-1 layer III frame header (128 kbit/s, 44.1 kHz) and a body.
var mp3Frame = append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte{0x55}, 413)...)

// checkSameAudio checks that the cleaned MP3 out is the run of in's bytes from its
// first audio frame, with nothing but tags removed around it.
func checkSameAudio(t testing.TB, in, out []byte) {
	t.Helper()
	i := bytes.Index(in, out)
	if i < 0 || !isMPEGAudioFrame(out) {
		t.Fatalf("cleaned MP3 (%d bytes) is not a run of the original's audio", len(out))
	}
	if len(out) >= len(in) {
		t.Errorf("cleaned MP3 has %d bytes of %d: nothing removed", len(out), len(in))
	}
}

// id3v2 builds an ID3v2 tag of the given version with frames as its body.
func id3v2(version byte, flags byte, body []byte) []byte {
	n := len(body)
	h := []byte{'I', 'D', '3', version, 0, flags, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	out := append(h, body...)
	if flags&0x10 != 0 {
		out = append(out, '3', 'D', 'I', version, 0, flags, h[6], h[7], h[8], h[9])
	}
	return out
}

// apeTag builds an APEv2 tag with header and footer.
func apeTag(items []byte) []byte {
	part := func(flags uint32) []byte {
		b := []byte("APETAGEX")
		b = fmt.Appendf(b, "%s", le32(2000))
		b = append(b, le32(uint32(len(items)+32))...)
		b = append(b, le32(1)...)
		b = append(b, le32(flags)...)
		return append(b, make([]byte, 8)...)
	}
	out := part(1<<31 | 1<<29)
	out = append(out, items...)
	return append(out, part(1<<31)...)
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// TestStripID3: every kind of MP3 tag goes, the audio stays byte for byte.
func TestStripID3(t *testing.T) {
	secret := []byte("TXXX\x00\x00\x00\x10\x00\x00\x00GPS 48.8584 N ")
	audio := bytes.Repeat(mp3Frame, 3)
	id3v1 := append([]byte("TAG"), bytes.Repeat([]byte("48.8584 "), 16)[:125]...)
	enhanced := append([]byte("TAG+"), bytes.Repeat([]byte("x"), 223)...)
	lyrics3v2 := []byte("LYRICSBEGININD0000248.8584")
	lyrics3v2 = append(lyrics3v2, fmt.Sprintf("%06dLYRICS200", len(lyrics3v2))...)
	lyrics3v1 := []byte("LYRICSBEGIN48.8584 la la LYRICSEND")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name string
		in   []byte
	}{
		{"ID3v2.2", cat(id3v2(2, 0, secret), audio)},
		{"ID3v2.3 with padding", cat(id3v2(3, 0, cat(secret, make([]byte, 100))), audio)},
		{"ID3v2.4 with footer", cat(id3v2(4, 0x10, secret), audio)},
		{"ID3v2.4 extended header", cat(id3v2(4, 0x40, cat([]byte{0, 0, 0, 6, 1, 0}, secret)), audio)},
		{"stacked ID3v2", cat(id3v2(3, 0, secret), id3v2(4, 0, secret), audio)},
		{"zero padding after the tag", cat(id3v2(3, 0, secret), make([]byte, 64), audio)},
		{"ID3v1", cat(audio, id3v1)},
		{"Enhanced TAG+", cat(audio, enhanced, id3v1)},
		{"APEv2 and ID3v1", cat(id3v2(3, 0, secret), audio, apeTag(secret), id3v1)},
		{"Lyrics3v2", cat(audio, lyrics3v2, id3v1)},
		{"Lyrics3v1", cat(audio, lyrics3v1, id3v1)},
		{"appended ID3v2.4", cat(audio, id3v2(4, 0x10, secret))},
		{"fixture v2.4 + v1", readFixture(t, "tagged.mp3")},
		{"fixture v2.3", readFixture(t, "tagged-v23.mp3")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := stripID3(c.in)
			if err != nil || !changed {
				t.Fatalf("stripID3 = %v, %v; want changed", changed, err)
			}
			if bytes.Contains(out, []byte("48.8584")) || bytes.Contains(out, []byte("TAG")) || bytes.Contains(out, []byte("ID3")) {
				t.Errorf("tags left: %q", out)
			}
			checkSameAudio(t, c.in, out)
			if again, changed, err := stripID3(out); err != nil || changed || !bytes.Equal(again, out) {
				t.Errorf("cleaning twice = changed %v, %v", changed, err)
			}
		})
	}
	if out, changed, err := stripID3(audio); err != nil || changed || !bytes.Equal(out, audio) {
		t.Errorf("stripID3(untagged) = changed %v, %v; want the input unchanged", changed, err)
	}
}

// TestStripID3Rejects: tags that do not fit, or no audio, are rejected with a reason.
func TestStripID3Rejects(t *testing.T) {
	audio := bytes.Repeat(mp3Frame, 2)
	cases := []struct {
		name string
		in   []byte
		want RejectReason
	}{
		{"tag only", id3v2(3, 0, []byte("TIT2")), RejectMalformed},
		{"tag beyond the file", append([]byte("ID3\x03\x00\x00\x00\x00\x7f\x7f"), audio...), RejectMalformed},
		{"size not synchsafe", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x80"), audio...), RejectMalformed},
		{"unknown version", append([]byte("ID3\x05\x00\x00\x00\x00\x00\x00"), audio...), RejectMalformed},
		{"too many leading tags", append(bytes.Repeat(id3v2(3, 0, nil), maxID3Leading+1), audio...), RejectTooComplex},
		{"too many trailing tags", append(append([]byte(nil), audio...), bytes.Repeat(id3v2(4, 0x10, nil), maxID3Trailing+1)...), RejectTooComplex},
		{"APE size beyond the file", append(append([]byte(nil), audio[:40]...), []byte("APETAGEX\xd0\x07\x00\x00\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")...), RejectMalformed},
		{"Lyrics3v2 without start", append(append([]byte(nil), audio...), "000010LYRICS200"...), RejectMalformed},
		{"junk instead of audio", append(id3v2(3, 0, nil), "not audio at all"...), RejectMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := stripID3(c.in)
			var rej *rejectError
			if !errors.As(err, &rej) || rej.reason != c.want {
				t.Errorf("stripID3 = %v, want %s", err, c.want)
			}
		})
	}
}

// BenchmarkStripID3 cuts the tags off a 20 MiB MP3 (the audio size limit).
func BenchmarkStripID3(b *testing.B) {
	data := append(id3v2(4, 0x10, make([]byte, 1<<20)), bytes.Repeat(mp3Frame, (19<<20)/len(mp3Frame))...)
	data = append(data, append([]byte("TAG"), make([]byte, 125)...)...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := stripID3(data); err != nil {
			b.Fatal(err)
		}
	}
}
