package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// HEIC (HEIF with HEVC) cannot be decoded in pure Go, so Hearth does not re-encode or
// thumbnail it. It does what the container allows without decoding: it reads the
// displayed size from the primary item's ispe (and irot) properties, and blanks the
// payload of every Exif and XMP item in place (same length, so no offset in the file
// moves) with an empty EXIF structure and an empty XMP packet. Orientation in HEIF is
// the irot/imir properties, not EXIF, so blanking EXIF does not turn the picture.

// errMetadataUnremovable reports metadata that cannot be located safely; the upload
// is rejected rather than stored with its GPS position.
var errMetadataUnremovable = errors.New("metadata cannot be removed")

const (
	// maxBoxes bounds the boxes read at one level of an ISO BMFF file.
	maxBoxes = 10000
	// maxItems bounds the items of a HEIF file Hearth walks (an iPhone photo has
	// about 50: 48 grid tiles, the grid, a thumbnail, Exif, XMP).
	maxItems = 10000
	// maxItemExtents bounds the extents of one item (phones write one).
	maxItemExtents = 256
	// maxExtents bounds the extents of all items of a file together. An extent can
	// take no byte of the file (offset and length sizes 0), so this cap, not the file
	// size, is what bounds the memory of the locations.
	maxExtents = 20000
	// maxMetaBoxes bounds the meta boxes of a HEIF file (one at file level, a few in
	// tracks).
	maxMetaBoxes = 16
)

// errTooComplex reports a file over one of the structural caps above; the upload is
// rejected as too-complex.
var errTooComplex = errors.New("over a structural limit")

// isoBox is one box of an ISO base media file: [start, end) is the whole box and
// body the offset of its payload.
type isoBox struct {
	typ        string
	start, end int64
	body       int64
}

// isoBoxes lists the boxes between start and end.
func isoBoxes(data []byte, start, end int64) ([]isoBox, error) {
	var out []isoBox
	for i := start; i < end; {
		if i+8 > end || len(out) >= maxBoxes {
			return nil, errMalformed
		}
		size := int64(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		hdr := int64(8)
		switch size {
		case 0: // to the end of the enclosing space
			size = end - i
		case 1: // 64-bit size follows
			if i+16 > end {
				return nil, errMalformed
			}
			size = int64(binary.BigEndian.Uint64(data[i+8:]))
			hdr = 16
		}
		if typ == "uuid" {
			hdr += 16
		}
		if size < hdr || size > end-i {
			return nil, errMalformed
		}
		out = append(out, isoBox{typ: typ, start: i, end: i + size, body: i + hdr})
		i += size
	}
	return out, nil
}

func findBox(boxes []isoBox, typ string) (isoBox, bool) {
	for _, b := range boxes {
		if b.typ == typ {
			return b, true
		}
	}
	return isoBox{}, false
}

// cursor reads big-endian fields within [pos, end); a read past end sets bad.
type cursor struct {
	data     []byte
	pos, end int64
	bad      bool
}

func (c *cursor) take(n int64) []byte {
	if c.bad || n < 0 || c.pos+n > c.end {
		c.bad = true
		return nil
	}
	b := c.data[c.pos : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) u8() uint8 {
	if b := c.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if b := c.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if b := c.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// uN reads an n-byte unsigned field (n is 0, 4 or 8 in iloc).
func (c *cursor) uN(n uint8) int64 {
	switch n {
	case 0:
		return 0
	case 4:
		return int64(c.u32())
	case 8:
		b := c.take(8)
		if b == nil {
			return 0
		}
		v := binary.BigEndian.Uint64(b)
		if v > 1<<62 {
			c.bad = true
			return 0
		}
		return int64(v)
	}
	c.bad = true
	return 0
}

// id reads an item id of 16 bits (small) or 32 bits.
func (c *cursor) id(small bool) uint32 {
	if small {
		return uint32(c.u16())
	}
	return c.u32()
}

// heifItemLoc is where an item's bytes are: absolute file ranges.
type heifItemLoc struct {
	method  int
	extents [][2]int64 // [start, end)
}

// heifInfo is what Hearth reads from a HEIF file.
type heifInfo struct {
	Width, Height int
	// Metadata lists the Exif, XMP and other MIME items of every meta box: their kind
	// and their bytes' location (nil when the item has no usable location).
	Metadata []heifMeta
	// Free lists the offsets of boxes to turn into free boxes (the user data and
	// metadata boxes of a movie box: a HEIF file may carry tracks).
	Free []int64
}

type heifMeta struct {
	kind string // "Exif", "XMP" or "mime"
	loc  *heifItemLoc
}

// parseHEIF reads the displayed size (from the file-level meta box) and the metadata
// items of every meta box of a HEIF file.
func parseHEIF(data []byte) (heifInfo, error) {
	var info heifInfo
	top, err := isoBoxes(data, 0, int64(len(data)))
	if err != nil {
		return info, fmt.Errorf("heic: %w", err)
	}
	extents, metas := 0, 0
	first := true
	for _, b := range top {
		switch b.typ {
		case "meta":
			if metas++; metas > maxMetaBoxes {
				return info, fmt.Errorf("heic: more than %d meta boxes: %w", maxMetaBoxes, errTooComplex)
			}
			w, h, err := parseHEIFMeta(data, b, &info, &extents)
			if err != nil {
				return info, err
			}
			if first {
				info.Width, info.Height, first = w, h, false
			}
		case "moov":
			if err := heifMovieMeta(data, b, 0, &info, &metas); err != nil {
				return info, err
			}
		}
	}
	if first {
		return info, fmt.Errorf("heic: no meta box: %w", errMalformed)
	}
	return info, nil
}

// heifMovieMeta lists, for blanking, the udta and meta boxes under a moov box (in
// the movie, its tracks and their media), to depth 4.
func heifMovieMeta(data []byte, b isoBox, depth int, info *heifInfo, metas *int) error {
	kids, err := isoBoxes(data, b.body, b.end)
	if err != nil {
		return fmt.Errorf("heic %s: %w", b.typ, err)
	}
	for _, k := range kids {
		switch k.typ {
		case "udta", "meta":
			if *metas++; *metas > maxMetaBoxes {
				return fmt.Errorf("heic: more than %d meta boxes: %w", maxMetaBoxes, errTooComplex)
			}
			info.Free = append(info.Free, k.start)
		case "trak", "mdia", "minf":
			if depth < 4 {
				if err := heifMovieMeta(data, k, depth+1, info, metas); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// parseHEIFMeta adds the metadata items of one meta box to info and returns the
// displayed size of its primary item.
func parseHEIFMeta(data []byte, meta isoBox, info *heifInfo, extents *int) (int, int, error) {
	if meta.body+4 > meta.end {
		return 0, 0, fmt.Errorf("heic: empty meta box: %w", errMalformed)
	}
	children, err := isoBoxes(data, meta.body+4, meta.end) // meta is a FullBox
	if err != nil {
		return 0, 0, fmt.Errorf("heic meta: %w", err)
	}

	primary := uint32(0)
	if b, ok := findBox(children, "pitm"); ok {
		c := &cursor{data: data, pos: b.body, end: b.end}
		v := c.u8()
		c.take(3)
		primary = c.id(v == 0)
	}

	// Item types (iinf/infe).
	types := map[uint32]string{}
	if b, ok := findBox(children, "iinf"); ok {
		c := &cursor{data: data, pos: b.body, end: b.end}
		v := c.u8()
		c.take(3)
		if v == 0 {
			c.u16()
		} else {
			c.u32()
		}
		if c.bad {
			return 0, 0, fmt.Errorf("heic iinf: %w", errMalformed)
		}
		entries, err := isoBoxes(data, c.pos, b.end)
		if err != nil {
			return 0, 0, fmt.Errorf("heic iinf: %w", err)
		}
		if len(entries) > maxItems {
			return 0, 0, fmt.Errorf("heic iinf: %d items > %d: %w", len(entries), maxItems, errTooComplex)
		}
		for _, e := range entries {
			if e.typ != "infe" {
				continue
			}
			c := &cursor{data: data, pos: e.body, end: e.end}
			v := c.u8()
			c.take(3)
			if v < 2 {
				// Item info before HEIF names no item type, so an Exif or XMP item
				// could hide behind it; HEIF requires version 2 or 3.
				return 0, 0, fmt.Errorf("heic infe version %d: %w", v, errMalformed)
			}
			id := c.id(v == 2)
			c.u16() // protection index
			typ := string(c.take(4))
			if c.bad {
				return 0, 0, fmt.Errorf("heic infe: %w", errMalformed)
			}
			if typ == "mime" {
				rest := data[c.pos:e.end]
				_, after, _ := bytes.Cut(rest, []byte{0}) // item_name
				ct, _, _ := bytes.Cut(after, []byte{0})
				if bytes.Contains(ct, []byte("xml")) || bytes.Contains(ct, []byte("rdf")) {
					typ = "XMP"
				}
			}
			types[id] = typ
		}
	}

	// Item locations (iloc), with idat for construction method 1.
	var idat *isoBox
	if b, ok := findBox(children, "idat"); ok {
		idat = &b
	}
	locs := map[uint32]*heifItemLoc{}
	if b, ok := findBox(children, "iloc"); ok {
		if err := parseILOC(data, b, idat, locs, extents); err != nil {
			return 0, 0, err
		}
	}
	for id, typ := range types {
		// Exif and XMP carry the location; any other MIME item (JSON, a vendor's
		// blob) is not needed to show the picture and is blanked as well.
		if typ == "Exif" || typ == "XMP" || typ == "mime" {
			info.Metadata = append(info.Metadata, heifMeta{kind: typ, loc: locs[id]})
		}
	}

	// Displayed size: the primary item's ispe, turned by its irot.
	if b, ok := findBox(children, "iprp"); ok {
		return heifSize(data, b, primary)
	}
	return 0, 0, nil
}

// parseILOC fills locs from an iloc box (versions 0, 1 and 2).
// extents counts the extents read so far in the file (several meta boxes share the
// cap). Each item's extents must add up to at most the file size.
func parseILOC(data []byte, b isoBox, idat *isoBox, locs map[uint32]*heifItemLoc, extents *int) error {
	c := &cursor{data: data, pos: b.body, end: b.end}
	v := c.u8()
	c.take(3)
	sizes := c.u8()
	offSize, lenSize := sizes>>4, sizes&0x0F
	sizes = c.u8()
	baseSize, idxSize := sizes>>4, uint8(0)
	if v == 1 || v == 2 {
		idxSize = sizes & 0x0F
	}
	var count uint32
	if v < 2 {
		count = uint32(c.u16())
	} else {
		count = c.u32()
	}
	if c.bad || v > 2 {
		return fmt.Errorf("heic iloc: %w", errMalformed)
	}
	if count > maxItems {
		return fmt.Errorf("heic iloc: %d items > %d: %w", count, maxItems, errTooComplex)
	}
	fileSize := int64(len(data))
	for k := uint32(0); k < count; k++ {
		id := c.id(v < 2)
		loc := &heifItemLoc{}
		if v == 1 || v == 2 {
			loc.method = int(c.u16() & 0x0F)
		}
		c.u16() // data reference index
		base := c.uN(baseSize)
		n := c.u16()
		if int(n) > maxItemExtents {
			return fmt.Errorf("heic iloc: item %d has %d extents > %d: %w", id, n, maxItemExtents, errTooComplex)
		}
		if *extents += int(n); *extents > maxExtents {
			return fmt.Errorf("heic iloc: more than %d extents: %w", maxExtents, errTooComplex)
		}
		var sum int64 // bytes the item's extents cover: never more than the file
		for e := uint16(0); e < n; e++ {
			if idxSize > 0 {
				c.uN(idxSize)
			}
			off, length := c.uN(offSize), c.uN(lenSize)
			if c.bad {
				break
			}
			var start, limit int64
			switch loc.method {
			case 0: // file offsets
				start, limit = base+off, int64(len(data))
			case 1: // offsets into idat
				if idat == nil {
					loc.method = -1
					continue
				}
				start, limit = idat.body+base+off, idat.end
			default:
				continue
			}
			end := start + length
			if length == 0 { // to the end of the space
				end = limit
			}
			if start < 0 || end < start || end > limit {
				loc.method = -1 // unusable
				continue
			}
			if sum += end - start; sum > fileSize {
				return fmt.Errorf("heic iloc: item %d's extents add up to more than the file (%d bytes): %w", id, fileSize, errMalformed)
			}
			loc.extents = append(loc.extents, [2]int64{start, end})
		}
		if c.bad {
			return fmt.Errorf("heic iloc: %w", errMalformed)
		}
		if loc.method == 0 || loc.method == 1 {
			locs[id] = loc
		}
	}
	return nil
}

// heifSize returns the displayed size of the primary item from iprp (ipco
// properties, ipma associations). Without associations it takes the largest ispe
// (the primary image is the largest; tiles and thumbnails are smaller).
func heifSize(data []byte, iprp isoBox, primary uint32) (int, int, error) {
	kids, err := isoBoxes(data, iprp.body, iprp.end)
	if err != nil {
		return 0, 0, fmt.Errorf("heic iprp: %w", err)
	}
	ipco, ok := findBox(kids, "ipco")
	if !ok {
		return 0, 0, nil
	}
	props, err := isoBoxes(data, ipco.body, ipco.end)
	if err != nil {
		return 0, 0, fmt.Errorf("heic ipco: %w", err)
	}
	ispe := func(p isoBox) (int, int, bool) {
		c := &cursor{data: data, pos: p.body + 4, end: p.end}
		w, h := c.u32(), c.u32()
		return int(w), int(h), !c.bad && w > 0 && h > 0 && w <= 1<<20 && h <= 1<<20
	}
	var w, h, angle int
	found := false
	if ipma, ok := findBox(kids, "ipma"); ok && primary != 0 {
		c := &cursor{data: data, pos: ipma.body, end: ipma.end}
		v := c.u8()
		flags := c.take(3)
		n := c.u32()
		for k := uint32(0); k < n && !c.bad && k < maxItems; k++ {
			id := c.id(v < 1)
			assoc := int(c.u8())
			for a := 0; a < assoc && !c.bad; a++ {
				var idx int
				if len(flags) == 3 && flags[2]&1 != 0 {
					idx = int(c.u16() & 0x7FFF)
				} else {
					idx = int(c.u8() & 0x7F)
				}
				if id != primary || idx < 1 || idx > len(props) {
					continue
				}
				p := props[idx-1]
				switch p.typ {
				case "ispe":
					if pw, ph, ok := ispe(p); ok {
						w, h, found = pw, ph, true
					}
				case "irot":
					cc := &cursor{data: data, pos: p.body, end: p.end}
					angle = int(cc.u8() & 3)
				}
			}
		}
	}
	if !found {
		for _, p := range props {
			if p.typ != "ispe" {
				continue
			}
			if pw, ph, ok := ispe(p); ok && pw*ph > w*h {
				w, h = pw, ph
			}
		}
	}
	if angle%2 == 1 {
		w, h = h, w
	}
	return w, h, nil
}

// emptyXMP is an XMP packet with no properties.
const emptyXMP = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>`
const xmpEnd = `<?xpacket end="w"?>`

// emptyExifItem is an Exif item payload with an empty IFD0: a 4-byte offset to the
// TIFF header (0), then "MM", 42, IFD0 at 8, no entries, no next IFD.
var emptyExifItem = []byte{0, 0, 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0}

// stripHEIF returns a copy of data with every Exif, XMP and other MIME item of every
// meta box blanked (and the movie's user data boxes turned into free boxes), and the
// displayed size. Nothing moves: every offset in the file stays valid.
func stripHEIF(data []byte) ([]byte, heifInfo, error) {
	info, err := parseHEIF(data)
	if err != nil {
		return nil, info, err
	}
	// parseILOC bounds each item's extents by the file; the metadata items together
	// may cover it at most once too, or blanking them would cost items × the file.
	var all int64
	for _, m := range info.Metadata {
		if m.loc == nil || len(m.loc.extents) == 0 {
			return nil, info, fmt.Errorf("heic %s item: %w", m.kind, errMetadataUnremovable)
		}
		for _, e := range m.loc.extents {
			if all += e[1] - e[0]; all > int64(len(data)) {
				return nil, info, fmt.Errorf("heic: metadata items cover more than the file (%d bytes): %w", len(data), errMalformed)
			}
		}
	}
	out := bytes.Clone(data)
	for _, m := range info.Metadata {
		total := int64(0)
		for _, e := range m.loc.extents {
			total += e[1] - e[0]
		}
		repl := make([]byte, total)
		switch m.kind {
		case "Exif":
			if total >= int64(len(emptyExifItem)) {
				copy(repl, emptyExifItem)
			}
		case "XMP":
			for i := range repl {
				repl[i] = ' '
			}
			if total >= int64(len(emptyXMP)+len(xmpEnd)) {
				copy(repl, emptyXMP)
				copy(repl[total-int64(len(xmpEnd)):], xmpEnd)
			}
		}
		for _, e := range m.loc.extents {
			n := copy(out[e[0]:e[1]], repl)
			repl = repl[n:]
		}
	}
	for _, at := range info.Free {
		copy(out[at+4:at+8], "free")
	}
	return out, info, nil
}

// heifICC returns the ICC profile of a HEIF file: the first colr property of type
// prof or rICC in the file-level meta box, or nil.
func heifICC(data []byte) []byte {
	top, err := isoBoxes(data, 0, int64(len(data)))
	if err != nil {
		return nil
	}
	meta, ok := findBox(top, "meta")
	if !ok || meta.body+4 > meta.end {
		return nil
	}
	walk := func(b isoBox, typ string, skip int64) (isoBox, bool) {
		kids, err := isoBoxes(data, b.body+skip, b.end)
		if err != nil {
			return isoBox{}, false
		}
		return findBox(kids, typ)
	}
	iprp, ok := walk(meta, "iprp", 4)
	if !ok {
		return nil
	}
	ipco, ok := walk(iprp, "ipco", 0)
	if !ok {
		return nil
	}
	props, err := isoBoxes(data, ipco.body, ipco.end)
	if err != nil {
		return nil
	}
	for _, p := range props {
		if p.typ != "colr" || p.body+4 > p.end {
			continue
		}
		if t := string(data[p.body : p.body+4]); t == "prof" || t == "rICC" {
			if icc := data[p.body+4 : p.end]; len(icc) >= 128 && len(icc) <= maxICCSize {
				return icc
			}
		}
	}
	return nil
}
