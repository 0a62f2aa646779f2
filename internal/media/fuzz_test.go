package media

import (
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/model"
)

// FuzzParseMediaPath checks the parser behind GET /v1/media/{objectPath}: whatever it
// accepts is a canonical media or thumbnail path of valid ids, which it gives back
// unchanged, so no path it passes can reach outside media/ and thumbs/ or name
// another room than the one whose membership is checked. The seed corpus runs as a
// normal test.
func FuzzParseMediaPath(f *testing.F) {
	for _, seed := range []string{
		"media/room1/alice/0123456789abcdef0123456789abcdef.jpg",
		"/media/room1/alice/0123456789abcdef0123456789abcdef.jpg",
		"thumbs/room1/alice/0123456789abcdef0123456789abcdef.jpg",
		"thumbs/room1/alice/abc.png",
		"media/dm-0123456789abcdef0123456789abcdef/u_1/x-y.mp4",
		"media/room1/../0123.jpg",
		"media/../../etc/passwd",
		"media/room1/alice/..jpg",
		"media/room1/alice/.jpg",
		"media/room1/alice/x.",
		"media/room1/alice/x.jpg.exe",
		"media/room1/alice/x.JPG",
		"media//alice/x.jpg",
		"//media/room1/alice/x.jpg",
		"media/room1/alice/x.jpg/",
		"media/room_1/alice/x.jpg",
		"media/room1/__x__/x.jpg",
		"media/room1/alice/x%2F..%2Fy.jpg",
		"media/room1/alice/x\x00.jpg",
		"media/rööm/alice/x.jpg",
		"media\\room1\\alice\\x.jpg",
		"uploads/room1/alice/x.jpg",
		"media/room1/alice/" + strings.Repeat("a", 129) + ".jpg",
		"",
		"/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ref, err := ParseMediaPath(raw)
		if err != nil {
			return
		}
		p := strings.TrimPrefix(raw, "/")
		if ref.Path() != p {
			t.Fatalf("ParseMediaPath(%q).Path() = %q, want the input", raw, ref.Path())
		}
		if ref.Kind != model.ObjectMedia && ref.Kind != model.ObjectThumb {
			t.Fatalf("ParseMediaPath(%q) kind %q", raw, ref.Kind)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\%\x00") {
				t.Fatalf("ParseMediaPath(%q) accepted segment %q", raw, seg)
			}
		}
		if model.ValidateRoomID("roomId", ref.RoomID) != nil || model.ValidateID("uid", ref.UID) != nil || model.ValidateID("id", ref.ID) != nil {
			t.Fatalf("ParseMediaPath(%q) accepted invalid ids %+v", raw, ref)
		}
		again, err := ParseMediaPath(ref.Path())
		if err != nil || again != ref {
			t.Fatalf("ParseMediaPath(%q) = %+v, %v; want %+v", ref.Path(), again, err, ref)
		}
	})
}
