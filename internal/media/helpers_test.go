package media

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/api/option"

	"github.com/hearth-chat/hearth/emulator/emutest"
	"github.com/hearth-chat/hearth/emulator/storagefake"
	"github.com/hearth-chat/hearth/internal/model"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// testClock is a settable clock for the local storage's verifier.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// fixture is one test's media pipeline: the suite's Firestore under a fresh project,
// a private verifying storage (own bucket, own signing key, own clock) and a Service.
type fixture struct {
	t       testing.TB
	env     *emutest.Env
	fs      *firestore.Client
	gcs     *storage.Client
	srv     *storagefake.Server
	clock   *testClock // the storage verifier's clock
	svc     *Service
	cfg     Config
	bucket  string
	roomID  string
	alice   string // owner
	bob     string // member
	mallory string // not a member
	banned  string
	reg     *prometheus.Registry // the Service's metrics
}

type fixtureOpt func(*Config)

func newFixture(t testing.TB, opts ...fixtureOpt) *fixture {
	t.Helper()
	env := emutest.New(t)
	ctx := t.Context()
	f := &fixture{t: t, env: env, fs: env.Firestore(), clock: &testClock{}, bucket: "media-test-bucket"}

	signer, err := storagefake.NewTestSigner()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := storagefake.Start(context.Background(), storagefake.Config{
		Bucket:  f.bucket,
		Signers: map[string]*rsa.PublicKey{signer.AccessID(): signer.PublicKey()},
		Now:     f.clock.Now,
		Logger:  quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	keyFile := filepath.Join(t.TempDir(), "signer.json")
	if err := signer.WriteServiceAccountFile(keyFile, env.ProjectID); err != nil {
		t.Fatal(err)
	}
	f.gcs, err = storage.NewClient(context.Background(),
		option.WithEndpoint(srv.URL()+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.gcs.Close() })

	f.cfg = Config{
		Bucket:      f.bucket,
		SignerFile:  keyFile,
		URLHost:     srv.Addr(),
		URLInsecure: true,
	}
	for _, o := range opts {
		o(&f.cfg)
	}
	f.reg = prometheus.NewRegistry()
	f.svc, err = New(f.cfg, Deps{Firestore: f.fs, Storage: f.gcs, Logger: quietLogger(), Registerer: f.reg})
	if err != nil {
		t.Fatal(err)
	}
	f.alice, f.bob, f.mallory, f.banned = "alice", "bob", "mallory", "eve"
	f.roomID = "room-" + strings.TrimPrefix(env.ProjectID, "demo-t")
	f.seedRoom(f.roomID, false, f.alice, f.bob)
	return f
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// seedRoom writes a group room with members (the first is the owner) and a banned
// member doc for f.banned (not in memberIds, as a ban leaves it).
func (f *fixture) seedRoom(roomID string, archived bool, members ...string) {
	f.t.Helper()
	ctx := f.t.Context()
	now := time.Now()
	room := model.Room{Type: model.RoomGroup, Title: "Test", CreatedBy: members[0], CreatedAt: now,
		MemberIDs: members, MemberCount: len(members), LastMessageAt: now, Archived: archived}
	if _, err := f.fs.Doc(model.RoomPath(roomID)).Set(ctx, room); err != nil {
		f.t.Fatal(err)
	}
	for i, uid := range members {
		role := model.RoleMember
		if i == 0 {
			role = model.RoleOwner
		}
		m := model.Member{Role: role, JoinedAt: now, DisplayName: uid}
		if _, err := f.fs.Doc(model.MemberPath(roomID, uid)).Set(ctx, m); err != nil {
			f.t.Fatal(err)
		}
	}
	ban := model.Member{Role: model.RoleMember, JoinedAt: now, DisplayName: f.banned, Banned: true, BannedAt: now, BannedBy: members[0]}
	if _, err := f.fs.Doc(model.MemberPath(roomID, f.banned)).Set(ctx, ban); err != nil {
		f.t.Fatal(err)
	}
}

// issue asks for an upload URL as uid, failing the test on error.
func (f *fixture) issue(uid, contentType string, size int64) UploadTicket {
	f.t.Helper()
	tk, err := f.svc.Issuer.IssueUpload(f.t.Context(), uid, UploadRequest{RoomID: f.roomID, ContentType: contentType, Size: size})
	if err != nil {
		f.t.Fatalf("IssueUpload(%s, %d) = %v", contentType, size, err)
	}
	return tk
}

// put sends body to a signed URL with the given headers, like a client, and returns
// the status and the response body.
func put(t testing.TB, url string, headers map[string]string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upload issues a URL for body as uid and PUTs it; it returns the ticket and the
// finalized object as a storage event would describe it.
func (f *fixture) upload(uid, contentType string, body []byte) (UploadTicket, Object) {
	f.t.Helper()
	tk := f.issue(uid, contentType, int64(len(body)))
	if code, resp := put(f.t, tk.UploadURL, tk.Headers, body); code != http.StatusOK {
		f.t.Fatalf("PUT %s = %d %s, want 200", tk.ObjectPath, code, resp)
	}
	return tk, f.object(tk.ObjectPath)
}

// object returns the current object as a finalize event carries it.
func (f *fixture) object(path string) Object {
	f.t.Helper()
	attrs, err := f.gcs.Bucket(f.bucket).Object(path).Attrs(f.t.Context())
	if err != nil {
		f.t.Fatalf("attrs %s: %v", path, err)
	}
	return Object{Bucket: f.bucket, Name: path, Generation: attrs.Generation, ContentType: attrs.ContentType,
		Size: attrs.Size, MD5Hash: encodeMD5(attrs.MD5)}
}

// read returns an object's bytes, or nil when it does not exist.
func (f *fixture) read(path string) []byte {
	f.t.Helper()
	r, err := f.gcs.Bucket(f.bucket).Object(path).NewReader(f.t.Context())
	if err == storage.ErrObjectNotExist {
		return nil
	}
	if err != nil {
		f.t.Fatalf("read %s: %v", path, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// writeMessage writes a pending media message for an upload, as the client does.
func (f *fixture) writeMessage(id, sender string, tk UploadTicket, contentType string, size int64) {
	f.t.Helper()
	kind, _ := model.MediaKindOf(contentType)
	m := model.Message{SenderID: sender, Type: kind, CreatedAt: time.Now(),
		Media: &model.Media{Path: tk.ObjectPath, ContentType: contentType, Size: size, Status: model.MediaPending}}
	if _, err := f.fs.Doc(model.MessagePath(f.roomID, id)).Set(f.t.Context(), m); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) message(id string) model.Message {
	f.t.Helper()
	snap, err := f.fs.Doc(model.MessagePath(f.roomID, id)).Get(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	var m model.Message
	if err := snap.DataTo(&m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) record(objectPath string) Upload {
	f.t.Helper()
	ref, err := model.ParseObjectPath(objectPath)
	if err != nil {
		f.t.Fatal(err)
	}
	snap, err := f.fs.Doc(UploadPath(ref.ID)).Get(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	var u Upload
	if err := snap.DataTo(&u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// --- generated media -----------------------------------------------------------

// quadColors are the quadrant colours of quadrantImage: top-left, top-right,
// bottom-left, bottom-right.
var (
	red    = color.RGBA{220, 20, 20, 255}
	blue   = color.RGBA{20, 20, 220, 255}
	green  = color.RGBA{20, 200, 20, 255}
	yellow = color.RGBA{230, 230, 20, 255}
)

// quadrantImage is a w×h image with four solid quadrants (red, blue / green, yellow):
// asymmetric under every rotation and mirror.
func quadrantImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = blue
			case x < w/2 && y >= h/2:
				c = green
			case x >= w/2 && y >= h/2:
				c = yellow
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gpsMarker is the GPS latitude reference value written into test EXIF; it must not
// survive processing.
const gpsMarker = "N\x00HEARTH-GPS-52.5200N-13.4050E"

// exifTIFF builds a big-endian EXIF TIFF block: IFD0 with Orientation (when o > 0),
// a Make string, and (withGPS) a GPS IFD with GPSLatitudeRef and a marker string.
func exifTIFF(o Orientation, withGPS bool) []byte {
	be := binary.BigEndian
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline (<= 4 bytes) or external
	}
	camera := []byte("HearthCam\x00")
	entries := []entry{{0x010F, 2, uint32(len(camera)), camera}}
	if o > 0 {
		v := make4(be, uint16(o))
		entries = append(entries, entry{tagOrientation, 3, 1, v})
	}
	var gps []byte
	if withGPS {
		entries = append(entries, entry{tagGPSIFD, 4, 1, nil}) // offset filled below
		gps = []byte(gpsMarker)
	}
	// Layout: header(8) | IFD0 | external values | GPS IFD
	ifd0Len := 2 + 12*len(entries) + 4
	ext := 8 + ifd0Len
	var extData []byte
	out := []byte{'M', 'M', 0, 42, 0, 0, 0, 8}
	ifd := make2(be, uint16(len(entries)))
	gpsIFDOff := 0
	for _, e := range entries {
		rec := make([]byte, 12)
		be.PutUint16(rec, e.tag)
		be.PutUint16(rec[2:], e.typ)
		be.PutUint32(rec[4:], e.count)
		switch {
		case e.tag == tagGPSIFD:
			gpsIFDOff = len(rec) // placeholder marker; patched below
		case len(e.value) <= 4:
			copy(rec[8:], e.value)
		default:
			be.PutUint32(rec[8:], uint32(ext+len(extData)))
			extData = append(extData, e.value...)
		}
		ifd = append(ifd, rec...)
	}
	ifd = append(ifd, 0, 0, 0, 0)
	gpsStart := ext + len(extData)
	if gpsIFDOff != 0 {
		// patch the GPS pointer (the last entry)
		be.PutUint32(ifd[2+12*(len(entries)-1)+8:], uint32(gpsStart))
		// GPS IFD: GPSLatitudeRef (ASCII) pointing at the marker
		g := make2(be, 1)
		rec := make([]byte, 12)
		be.PutUint16(rec, 0x0001)
		be.PutUint16(rec[2:], 2)
		be.PutUint32(rec[4:], uint32(len(gps)))
		be.PutUint32(rec[8:], uint32(gpsStart+2+12+4))
		g = append(g, rec...)
		g = append(g, 0, 0, 0, 0)
		g = append(g, gps...)
		extData = append(extData, g...)
	}
	out = append(out, ifd...)
	out = append(out, extData...)
	return out
}

func make2(bo binary.ByteOrder, v uint16) []byte {
	b := make([]byte, 2)
	bo.PutUint16(b, v)
	return b
}

func make4(bo binary.ByteOrder, v uint16) []byte {
	b := make([]byte, 4)
	bo.PutUint16(b, v)
	return b
}

// withEXIF inserts an APP1 EXIF segment right after a JPEG's SOI.
func withEXIF(jpg, tiff []byte) []byte {
	seg := append([]byte{0xFF, 0xE1, 0, 0}, exifHeader...)
	seg = append(seg, tiff...)
	binary.BigEndian.PutUint16(seg[2:], uint16(len(seg)-2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// colourNear reports whether c is within tol of want in every channel.
func colourNear(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool {
		x := int(a>>8) - int(w)
		return x >= -tol && x <= tol
	}
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// quadrants samples the centres of img's four quadrants.
func quadrants(img image.Image) [4]color.Color {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	at := func(fx, fy float64) color.Color {
		return img.At(b.Min.X+int(fx*float64(w)), b.Min.Y+int(fy*float64(h)))
	}
	return [4]color.Color{at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)}
}

func encodeMD5(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

func colourName(c color.Color) string {
	for name, want := range map[string]color.RGBA{"red": red, "blue": blue, "green": green, "yellow": yellow} {
		if colourNear(c, want, 40) {
			return name
		}
	}
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("rgb(%d,%d,%d)", r>>8, g>>8, b>>8)
}

// webpHasMetadata reports whether a WebP still carries an EXIF or XMP chunk.
func webpHasMetadata(data []byte) bool {
	return chunkPresent(data, "EXIF") || chunkPresent(data, "XMP ")
}

// chunkPresent walks a RIFF WEBP file for a chunk.
func chunkPresent(data []byte, fourcc string) bool {
	if len(data) < 12 {
		return false
	}
	for i := 12; i+8 <= len(data); {
		if string(data[i:i+4]) == fourcc {
			return true
		}
		n := int(binary.LittleEndian.Uint32(data[i+4 : i+8]))
		if n < 0 || i+8+n+n%2 > len(data) || i+8+n+n%2 <= i {
			return false
		}
		i += 8 + n + n%2
	}
	return false
}
