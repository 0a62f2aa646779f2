package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// treeBox is one box of a parsed ISO base media file.
type treeBox struct {
	typ       string
	off, size int64
	hdr       int64
	children  []treeBox
}

// parseTree parses the boxes of data[off:end] strictly, descending into the
// containers that hold tracks and sample tables, and fails the test on any box that
// does not fit.
func parseTree(t testing.TB, data []byte, off, end int64) []treeBox {
	t.Helper()
	var boxes []treeBox
	for off < end {
		if end-off < 8 {
			t.Fatalf("%d stray bytes at %d", end-off, off)
		}
		size, hdr := int64(binary.BigEndian.Uint32(data[off:])), int64(8)
		typ := string(data[off+4 : off+8])
		switch size {
		case 0:
			size = end - off
		case 1:
			size, hdr = int64(binary.BigEndian.Uint64(data[off+8:])), 16
		}
		if size < hdr || off+size > end {
			t.Fatalf("box %q at %d: size %d beyond %d", typ, off, size, end)
		}
		b := treeBox{typ: typ, off: off, size: size, hdr: hdr}
		switch typ {
		case "moov", "trak", "mdia", "minf", "stbl", "moof", "traf", "edts", "dinf":
			b.children = parseTree(t, data, off+hdr, off+size)
		}
		boxes = append(boxes, b)
		off += size
	}
	return boxes
}

// findTree returns the boxes at a path such as "moov/trak/mdia/minf/stbl/stco".
func findTree(boxes []treeBox, path string) []treeBox {
	first, rest, more := strings.Cut(path, "/")
	var out []treeBox
	for _, b := range boxes {
		if b.typ != first {
			continue
		}
		if !more {
			out = append(out, b)
			continue
		}
		out = append(out, findTree(b.children, rest)...)
	}
	return out
}

// chunkOffsets returns the chunk offsets (stco and co64) of every track.
func chunkOffsets(t testing.TB, data []byte) []int64 {
	t.Helper()
	boxes := parseTree(t, data, 0, int64(len(data)))
	var offs []int64
	for _, b := range findTree(boxes, "moov/trak/mdia/minf/stbl/stco") {
		p := data[b.off+b.hdr : b.off+b.size]
		n := int(binary.BigEndian.Uint32(p[4:8]))
		for i := range n {
			offs = append(offs, int64(binary.BigEndian.Uint32(p[8+4*i:])))
		}
	}
	for _, b := range findTree(boxes, "moov/trak/mdia/minf/stbl/co64") {
		p := data[b.off+b.hdr : b.off+b.size]
		n := int(binary.BigEndian.Uint32(p[4:8]))
		for i := range n {
			offs = append(offs, int64(binary.BigEndian.Uint64(p[8+8*i:])))
		}
	}
	return offs
}

// checkSameMedia checks that the cleaned MP4 out is in with only metadata boxes turned
// into free space: same size, the box tree still parses, every byte that differs lies
// in a free box of out, no metadata box is left where the walk looks, and every chunk
// offset is unchanged and points into an unchanged mdat.
func checkSameMedia(t testing.TB, in, out []byte) {
	t.Helper()
	if len(out) != len(in) {
		t.Fatalf("cleaned %d bytes, original %d", len(out), len(in))
	}
	boxes := parseTree(t, out, 0, int64(len(out)))
	var free [][2]int64
	var walk func([]treeBox, int)
	walk = func(bs []treeBox, depth int) {
		for _, b := range bs {
			switch b.typ {
			case "free":
				free = append(free, [2]int64{b.off, b.off + b.size})
			case "udta", "meta", "uuid":
				if depth <= 4 {
					t.Errorf("%s box left at %d", b.typ, b.off)
				}
			}
			walk(b.children, depth+1)
		}
	}
	walk(boxes, 0)
	for i := range in {
		if in[i] == out[i] {
			continue
		}
		inFree := false
		for _, r := range free {
			inFree = inFree || (int64(i) >= r[0] && int64(i) < r[1])
		}
		if !inFree {
			t.Fatalf("byte %d changed outside any free box", i)
		}
	}
	offIn, offOut := chunkOffsets(t, in), chunkOffsets(t, out)
	if len(offOut) == 0 || len(offIn) != len(offOut) {
		t.Fatalf("chunk offsets: %d before, %d after", len(offIn), len(offOut))
	}
	mdats := findTree(boxes, "mdat")
	for i, o := range offOut {
		if o != offIn[i] {
			t.Errorf("chunk offset %d moved: %d → %d", i, offIn[i], o)
		}
		inMdat := false
		for _, m := range mdats {
			inMdat = inMdat || (o >= m.off+m.hdr && o < m.off+m.size)
		}
		if !inMdat {
			t.Errorf("chunk offset %d = %d is outside mdat", i, o)
		}
	}
	for _, m := range mdats {
		if !bytes.Equal(in[m.off:m.off+m.size], out[m.off:m.off+m.size]) {
			t.Errorf("mdat at %d changed", m.off)
		}
	}
}

// stripMP4Bytes runs stripISOBMFF over data in memory.
func stripMP4Bytes(data []byte) ([]byte, bool, error) {
	var buf bytes.Buffer
	buf.Grow(len(data))
	changed, err := stripISOBMFF(&buf, bytes.NewReader(data), int64(len(data)))
	return buf.Bytes(), changed, err
}

// TestStripISOBMFFFixtures: the real MOV, MP4 and M4A lose their location, keep their
// size and every chunk offset; cleaning again changes nothing.
func TestStripISOBMFFFixtures(t *testing.T) {
	for _, name := range []string{"iphone.mov", "clip.mp4", "voice.m4a"} {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			out, changed, err := stripMP4Bytes(in)
			if err != nil || !changed {
				t.Fatalf("stripISOBMFF(%s) = %v, %v; want changed", name, changed, err)
			}
			if l := leaks(out); len(l) > 0 {
				t.Errorf("cleaned %s still carries %q", name, l)
			}
			checkSameMedia(t, in, out)
			again, changed, err := stripMP4Bytes(out)
			if err != nil || changed || !bytes.Equal(again, out) {
				t.Errorf("cleaning twice = changed %v, %v; want unchanged", changed, err)
			}
		})
	}
}

// box builds an ISO box; children are concatenated as its payload.
func mp4Box(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(out, typ...), body...)
}

// box64 builds a box with a 64-bit size.
func mp4Box64(typ string, payload []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, 1)
	out = append(out, typ...)
	out = binary.BigEndian.AppendUint64(out, uint64(16+len(payload)))
	return append(out, payload...)
}

// TestStripISOBMFFBoxes: 64-bit sizes, a final box of size 0, co64, uuid boxes and
// metadata at every level the walk looks at.
func TestStripISOBMFFBoxes(t *testing.T) {
	const secret = "+48.8584+002.2945/"
	xmp := append([]byte(xmpUUID), "<x:xmpmeta>"+secret...)
	mdatPayload := []byte("media bytes, never touched")
	ftypBox := mp4Box("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	// mdat comes right after ftyp and a 64-bit-size uuid; co64 points into it.
	head := append(append([]byte(nil), ftypBox...), mp4Box64("uuid", xmp)...)
	mdatOff := int64(len(head))
	mdat := mp4Box64("mdat", mdatPayload)
	co64 := binary.BigEndian.AppendUint32(nil, 0) // version, flags
	co64 = binary.BigEndian.AppendUint32(co64, 1)
	co64 = binary.BigEndian.AppendUint64(co64, uint64(mdatOff+16))
	stbl := mp4Box("stbl", mp4Box("co64", co64))
	trak := mp4Box("trak", mp4Box("tkhd", make([]byte, 84)),
		mp4Box("mdia", mp4Box("mdhd", make([]byte, 24)), mp4Box("minf", stbl, mp4Box("udta", []byte(secret))), mp4Box("meta", []byte(secret))),
		mp4Box("udta", mp4Box("\xa9xyz", []byte(secret))))
	moov := mp4Box("moov", mp4Box("mvhd", make([]byte, 100)), trak, mp4Box("meta", []byte("keys com.apple.quicktime.location.ISO6709")),
		mp4Box("uuid", append([]byte("0123456789abcdef"), secret...)))
	// The last box, udta at file level, has size 0: to the end of the file.
	tail := append(binary.BigEndian.AppendUint32(nil, 0), "udta"+secret...)
	in := bytes.Join([][]byte{head, mdat, moov, tail}, nil)

	out, changed, err := stripMP4Bytes(in)
	if err != nil || !changed {
		t.Fatalf("stripISOBMFF = %v, %v", changed, err)
	}
	if bytes.Contains(out, []byte("48.8584")) || bytes.Contains(out, []byte("ISO6709")) {
		t.Errorf("location left:\n%q", out)
	}
	checkSameMedia(t, in, out)
	if got := binary.BigEndian.Uint32(out[len(out)-len(tail):]); got != 0 {
		t.Errorf("size-0 box became size %d", got)
	}
}

// TestStripISOBMFFRejects: a file the walk cannot trust is rejected with a reason,
// never read past its end.
func TestStripISOBMFFRejects(t *testing.T) {
	ftypBox := mp4Box("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	many := bytes.Repeat(mp4Box("free"), maxMP4Boxes+1)
	nested := ftypBox
	cases := []struct {
		name string
		data []byte
		want RejectReason
	}{
		{"empty", nil, RejectMalformed},
		{"box beyond the file", append(append([]byte(nil), ftypBox...), "\x00\x00\x10\x00mdat"...), RejectMalformed},
		{"size below the header", append(append([]byte(nil), ftypBox...), "\x00\x00\x00\x04free"...), RejectMalformed},
		{"64-bit size below 16", append(append([]byte(nil), ftypBox...), "\x00\x00\x00\x01mdat\x00\x00\x00\x00\x00\x00\x00\x08"...), RejectMalformed},
		{"64-bit size beyond the file", append(append([]byte(nil), ftypBox...), "\x00\x00\x00\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff"...), RejectMalformed},
		{"truncated 64-bit size", append(append([]byte(nil), ftypBox...), "\x00\x00\x00\x01mdat\x00\x00"...), RejectMalformed},
		{"stray bytes", append(append([]byte(nil), ftypBox...), "abc"...), RejectMalformed},
		{"child beyond its parent", append(append([]byte(nil), ftypBox...), mp4Box("moov", []byte("\x00\x00\x01\x00trak"))...), RejectMalformed},
		{"uuid without usertype", append(append([]byte(nil), ftypBox...), mp4Box("uuid", []byte("short"))...), RejectMalformed},
		{"compressed movie header", append(append([]byte(nil), ftypBox...), mp4Box("moov", mp4Box("cmov", []byte("zlib")))...), RejectTooComplex},
		{"too many boxes", append(append([]byte(nil), nested...), many...), RejectTooComplex},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := stripMP4Bytes(c.data)
			var rej *rejectError
			if !errors.As(err, &rej) || rej.reason != c.want {
				t.Errorf("stripISOBMFF = %v, want %s", err, c.want)
			}
		})
	}
}

// failingReader fails after its bytes.
type failingReader struct{ r io.Reader }

var errStorage = errors.New("storage read failed")

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errStorage
	}
	return n, err
}

// TestStripISOBMFFReadError: a failed read, or a source that ends before its size,
// is an error to retry, not a rejection.
func TestStripISOBMFFReadError(t *testing.T) {
	in := readFixture(t, "clip.mp4")
	var rej *rejectError
	_, err := stripISOBMFF(io.Discard, failingReader{bytes.NewReader(in[:len(in)/2])}, int64(len(in)))
	if !errors.Is(err, errStorage) || errors.As(err, &rej) {
		t.Errorf("stripISOBMFF(failing reader) = %v, want the read error, not a rejection", err)
	}
	_, err = stripISOBMFF(io.Discard, bytes.NewReader(in[:len(in)-100]), int64(len(in)))
	if err == nil || errors.As(err, &rej) {
		t.Errorf("stripISOBMFF(short reader) = %v, want an error, not a rejection", err)
	}
}

// BenchmarkStripISOBMFF streams a 64 MiB video (the fixture's boxes around a large
// mdat) through the cleaner: throughput and the memory it takes, whatever the size.
func BenchmarkStripISOBMFF(b *testing.B) {
	ftypBox := mp4Box("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	moov := mp4Box("moov", mp4Box("mvhd", make([]byte, 100)), mp4Box("udta", mp4Box("\xa9xyz", []byte("+48.8584+002.2945/"))),
		mp4Box("meta", []byte("com.apple.quicktime.location.ISO6709")))
	data := bytes.Join([][]byte{ftypBox, mp4Box("mdat", make([]byte, 64<<20)), moov}, nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stripISOBMFF(io.Discard, bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// panicWriter panics on every write, standing in for a bug inside a walk.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

// TestCleanOpaqueRecovers: a panic inside a metadata walk rejects the file as
// malformed instead of ending the process it runs in.
func TestCleanOpaqueRecovers(t *testing.T) {
	data := readFixture(t, "tagged.mp3")
	changed, err := cleanOpaque(panicWriter{}, "audio/mpeg", bytes.NewReader(data), int64(len(data)))
	if changed || rejectReason(err) != RejectMalformed {
		t.Fatalf("cleanOpaque(panicking writer) = %v, %v; want false and a %s rejection", changed, err, RejectMalformed)
	}
}
