package media

import (
	"bytes"
	"image/jpeg"
	"image/png"
	"testing"
)

// The fixtures in testdata: p3-gps.jpg is a 64×48 JPEG carrying a Display P3 ICC
// profile (APP2) and EXIF with a GPS position; p3-gps.heic is that file encoded by
// libheif's heif-enc (Exif item and ICC colour property); p3-gps.png is the HEIC
// decoded by libheif's heif-convert (iCCP and eXIf chunks).

// TestJPEGKeepsICC: re-encoding a Display P3 photo keeps its profile byte for byte
// (without it the colours look washed out) and loses its GPS position.
func TestJPEGKeepsICC(t *testing.T) {
	data := readFixture(t, "p3-gps.jpg")
	in, err := walkJPEG(data)
	if err != nil || in.icc == nil || !parseTIFF(in.exif).HasGPS {
		t.Fatalf("fixture: icc %d bytes, gps %v, %v; want both", len(in.icc), parseTIFF(in.exif).HasGPS, err)
	}
	out, err := processImage("image/jpeg", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := walkJPEG(out.Stored)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.icc, in.icc) {
		t.Errorf("stored copy's ICC profile is %d bytes, want the upload's %d bytes", len(got.icc), len(in.icc))
	}
	if got.exif != nil {
		t.Error("stored copy still has EXIF")
	}
	if _, err := jpeg.Decode(bytes.NewReader(out.Stored)); err != nil {
		t.Errorf("stored copy does not decode: %v", err)
	}

	// A profile that does not describe what is written (CMYK, decoded to RGB) is
	// dropped rather than mislabelling the colours.
	cmyk := bytes.Clone(data)
	at := bytes.Index(cmyk, iccHeader) + len(iccHeader) + 2 + 16
	copy(cmyk[at:], "CMYK")
	out, err = processImage("image/jpeg", cmyk)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := walkJPEG(out.Stored); got.icc != nil {
		t.Error("a CMYK profile was carried into an RGB JPEG")
	}
}

// TestPNGKeepsICC: the iCCP chunk of a PNG goes into the re-encoded copy unchanged;
// the eXIf chunk (GPS) does not.
func TestPNGKeepsICC(t *testing.T) {
	data := readFixture(t, "p3-gps.png")
	in, err := walkPNG(data)
	if err != nil || in.iccp == nil || in.iccSpace != "RGB " || !parseTIFF(in.exif).HasGPS {
		t.Fatalf("fixture: iccp %d bytes (%q), gps %v, %v", len(in.iccp), in.iccSpace, parseTIFF(in.exif).HasGPS, err)
	}
	out, err := processImage("image/png", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := walkPNG(out.Stored)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.iccp, in.iccp) {
		t.Errorf("stored copy's iCCP is %d bytes, want the upload's %d", len(got.iccp), len(in.iccp))
	}
	if got.exif != nil {
		t.Error("stored copy still has eXIf")
	}
	if _, err := png.Decode(bytes.NewReader(out.Stored)); err != nil {
		t.Errorf("stored copy does not decode: %v", err)
	}
}

// TestHEICRendition: a HEIC from libheif's encoder gets a JPEG thumbnail and a JPEG
// rendition (with its ICC profile) that every client can show, and its stored copy
// keeps its pixels but loses the GPS position of its Exif item.
func TestHEICRendition(t *testing.T) {
	data := readFixture(t, "p3-gps.heic")
	info, err := parseHEIF(data)
	if err != nil || len(info.Metadata) == 0 {
		t.Fatalf("fixture: %+v, %v; want an Exif item", info, err)
	}
	out, err := processImage("image/heic", data)
	if err != nil {
		t.Fatal(err)
	}
	if out.Width != 64 || out.Height != 48 {
		t.Errorf("size %d×%d, want 64×48", out.Width, out.Height)
	}
	for name, b := range map[string][]byte{"thumbnail": out.Thumb, "rendition": out.Rendition} {
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s does not decode: %v", name, err)
		}
		if got := img.Bounds().Size(); got.X != 64 || got.Y != 48 {
			t.Errorf("%s is %v, want 64×48", name, got)
		}
		// The top-left quadrant of the fixture is red.
		r, g, bl, _ := img.At(8, 8).RGBA()
		if r>>8 < 150 || g>>8 > 90 || bl>>8 > 90 {
			t.Errorf("%s top-left is %d,%d,%d, want red", name, r>>8, g>>8, bl>>8)
		}
	}
	if l, _ := walkJPEG(out.Rendition); !bytes.Equal(l.icc, heifICC(data)) || l.icc == nil {
		t.Errorf("rendition's ICC profile is %d bytes, want the HEIC's %d", len(l.icc), len(heifICC(data)))
	}
	if out.Stored == nil || len(out.Stored) != len(data) {
		t.Fatalf("stored copy is %d bytes, want the upload's %d with Exif blanked", len(out.Stored), len(data))
	}
	for _, m := range info.Metadata {
		for _, e := range m.loc.extents {
			if bytes.Contains(out.Stored[e[0]:e[1]], []byte{0x88, 0x25}) || bytes.Contains(out.Stored[e[0]:e[1]], []byte{0x25, 0x88}) {
				t.Errorf("%s item still has a GPS IFD pointer", m.kind)
			}
		}
	}
}
