package media

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Limits of the ISO base media (MP4, QuickTime, M4A) walk. Only the boxes of a few
// container levels are looked at (the file, moov, trak, mdia, minf, moof, traf), so
// the depth is bounded by the walk itself; maxMP4Depth guards the recursion all the
// same. Every box costs at least 8 bytes, so the count is bounded by the size too;
// maxMP4Boxes keeps the cost of a file of tiny boxes far below its copy time.
const (
	maxMP4Boxes = 100_000
	maxMP4Depth = 4
)

// isoContainers are the boxes the walk descends into, by parent ("" is the file).
// Everything else is copied byte for byte, except the metadata boxes of mp4Strip.
var isoContainers = map[string]map[string]bool{
	"":     {"moov": true, "moof": true},
	"moov": {"trak": true},
	"trak": {"mdia": true},
	"mdia": {"minf": true},
	"moof": {"traf": true},
}

// mp4Strip reports whether a box of type typ (and, for uuid, usertype) inside parent
// carries metadata and becomes free space: user data (udta: ©xyz, loci, Apple and
// 3GPP tags, vendor blobs), meta (the Apple keys/ilst list with
// com.apple.quicktime.location.ISO6709, iTunes tags) and vendor uuid boxes (XMP,
// camera makers' data). In fragments (moof, traf) a uuid box may be a PIFF sample
// table, so only XMP is dropped there.
func mp4Strip(parent, typ string, usertype []byte) bool {
	switch typ {
	case "udta", "meta":
		return true
	case "uuid":
		if parent == "moof" || parent == "traf" {
			return string(usertype) == xmpUUID
		}
		return true
	}
	return false
}

// xmpUUID is the usertype of the uuid box that carries XMP in ISO files.
const xmpUUID = "\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac"

// freeType is what a stripped box becomes: free space every reader skips.
var freeType = [4]byte{'f', 'r', 'e', 'e'}

// stripISOBMFF copies the ISO base media file src (size bytes: MP4, QuickTime .mov,
// M4A) to dst with every metadata box (see mp4Strip) overwritten in place by a free
// box of the same size: the box header keeps its size and gets the type "free", the
// payload becomes zeros. Nothing moves, so the chunk offsets (stco/co64) into mdat
// stay valid and the output has exactly size bytes. It streams: memory is a few
// buffers, whatever the size. It reports whether anything was stripped.
//
// Every box size is checked against the bytes of its parent (64-bit sizes included;
// size 0 means "to the end of the parent"); a file that cannot be walked is rejected
// as RejectMalformed, one with too many boxes as RejectTooComplex. Errors of src or
// dst, a src shorter than size included, are returned wrapped, so a failed read is
// retried rather than condemning the upload.
func stripISOBMFF(dst io.Writer, src io.Reader, size int64) (bool, error) {
	if size < 8 {
		return false, reject(RejectMalformed, "mp4: %d bytes", size)
	}
	s := &isoStripper{dst: dst, src: bufio.NewReaderSize(src, 32<<10), buf: make([]byte, 32<<10)}
	if err := s.walk("", size, 0); err != nil {
		return false, err
	}
	return s.changed, nil
}

type isoStripper struct {
	dst     io.Writer
	src     *bufio.Reader
	buf     []byte // copy buffer
	zeros   []byte
	boxes   int
	changed bool
	hdr     [32]byte
}

// walk handles the boxes of parent, which has n bytes of payload left.
func (s *isoStripper) walk(parent string, n int64, depth int) error {
	if depth > maxMP4Depth {
		return reject(RejectTooComplex, "mp4: boxes nested deeper than %d", maxMP4Depth)
	}
	where := parent
	if where == "" {
		where = "the file"
	}
	for n > 0 {
		if n < 8 {
			return reject(RejectMalformed, "mp4: %d stray bytes at the end of %s", n, where)
		}
		if s.boxes++; s.boxes > maxMP4Boxes {
			return reject(RejectTooComplex, "mp4: more than %d boxes", maxMP4Boxes)
		}
		hdr := s.hdr[:8]
		if err := s.read(hdr); err != nil {
			return err
		}
		typ := string(hdr[4:8])
		boxSize := int64(binary.BigEndian.Uint32(hdr))
		switch boxSize {
		case 0: // to the end of the parent
			boxSize = n
		case 1: // a 64-bit size follows
			if n < 16 {
				return reject(RejectMalformed, "mp4: box %q: truncated 64-bit size", typ)
			}
			hdr = s.hdr[:16]
			if err := s.read(hdr[8:]); err != nil {
				return err
			}
			large := binary.BigEndian.Uint64(hdr[8:])
			if large < 16 || large > uint64(n) {
				return reject(RejectMalformed, "mp4: box %q of %d bytes in %d bytes of %s", typ, large, n, where)
			}
			boxSize = int64(large)
		}
		if boxSize < int64(len(hdr)) || boxSize > n {
			return reject(RejectMalformed, "mp4: box %q of %d bytes in %d bytes of %s", typ, boxSize, n, where)
		}
		if typ == "cmov" {
			// A zlib-compressed movie header (old QuickTime): its user data cannot be
			// cleaned in place.
			return reject(RejectTooComplex, "mp4: compressed movie header (cmov)")
		}
		payload := boxSize - int64(len(hdr))
		var usertype []byte
		if typ == "uuid" {
			if payload < 16 {
				return reject(RejectMalformed, "mp4: uuid box of %d bytes", boxSize)
			}
			usertype = s.hdr[len(hdr) : len(hdr)+16]
			if err := s.read(usertype); err != nil {
				return err
			}
		}
		switch {
		case mp4Strip(parent, typ, usertype):
			copy(hdr[4:8], freeType[:])
			clear(usertype) // already read
			if err := s.write(hdr); err != nil {
				return err
			}
			if err := s.write(usertype); err != nil {
				return err
			}
			if err := s.zero(payload - int64(len(usertype))); err != nil {
				return err
			}
			s.changed = true
		case isoContainers[parent][typ]:
			if err := s.write(hdr); err != nil {
				return err
			}
			if err := s.walk(typ, payload, depth+1); err != nil {
				return err
			}
		default:
			if err := s.write(hdr); err != nil {
				return err
			}
			if err := s.write(usertype); err != nil {
				return err
			}
			if err := s.copy(payload - int64(len(usertype))); err != nil {
				return err
			}
		}
		n -= boxSize
	}
	return nil
}

// read fills b from the source. Every box was checked against the size before its
// bytes are read, so a source that ends early has lost bytes in transit: an error to
// retry, not a reason to condemn the upload.
func (s *isoStripper) read(b []byte) error {
	if _, err := io.ReadFull(s.src, b); err != nil {
		return fmt.Errorf("mp4: read: %w", err)
	}
	return nil
}

func (s *isoStripper) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := s.dst.Write(b); err != nil {
		return fmt.Errorf("mp4: write: %w", err)
	}
	return nil
}

// copy copies n bytes from the source.
func (s *isoStripper) copy(n int64) error {
	for n > 0 {
		k := int(min(n, int64(len(s.buf))))
		if err := s.read(s.buf[:k]); err != nil {
			return err
		}
		if err := s.write(s.buf[:k]); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// zero skips n bytes of the source and writes n zero bytes in their place.
func (s *isoStripper) zero(n int64) error {
	if s.zeros == nil {
		s.zeros = make([]byte, len(s.buf))
	}
	for n > 0 {
		k := int(min(n, int64(len(s.buf))))
		if err := s.read(s.buf[:k]); err != nil {
			return err
		}
		if err := s.write(s.zeros[:k]); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}
