package model

import (
	"errors"
	"regexp"
	"testing"
)

func TestParseObjectPath(t *testing.T) {
	tests := []struct {
		path string
		want ObjectRef
	}{
		{"media/r1/u1/o1.jpg", ObjectRef{Kind: ObjectMedia, RoomID: "r1", UID: "u1", ID: "o1", Ext: "jpg"}},
		{"media/" + DirectRoomID("a", "b") + "/a_b/3f1c2b9e-8d7a-4c6b-9e0f-1a2b3c4d5e6f.m4a",
			ObjectRef{Kind: ObjectMedia, RoomID: DirectRoomID("a", "b"), UID: "a_b", ID: "3f1c2b9e-8d7a-4c6b-9e0f-1a2b3c4d5e6f", Ext: "m4a"}},
		{"thumbs/r1/u1/o1.jpg", ObjectRef{Kind: ObjectThumb, RoomID: "r1", UID: "u1", ID: "o1", Ext: "jpg"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := ParseObjectPath(tt.path)
			if err != nil || got != tt.want {
				t.Fatalf("ParseObjectPath(%q) = %+v, %v, want %+v, nil", tt.path, got, err, tt.want)
			}
			if p := got.Path(); p != tt.path {
				t.Errorf("ParseObjectPath(%q).Path() = %q, want the input", tt.path, p)
			}
		})
	}
}

func TestParseObjectPathRejects(t *testing.T) {
	for _, path := range []string{
		"", "media", "media/r1/u1", "media/r1/u1/o1", "media/r1/u1/o1.", "media/r1/u1/.jpg",
		"media/r1/u1/o1.JPG", "media/r1/u1/o1.jpeg2000x", "media/r1/u1/o1.tar.gz", "media/r_1/u1/o1.jpg",
		"media/r1/u.1/o1.jpg", "media/r1/u1/sub/o1.jpg", "/media/r1/u1/o1.jpg", "thumbs/r1/u1/o1.png",
		"uploads/r1/u1/o1.jpg", "media/../u1/o1.jpg", "media/r1/__u__/o1.jpg",
	} {
		t.Run(path, func(t *testing.T) {
			got, err := ParseObjectPath(path)
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Errorf("ParseObjectPath(%q) = %+v, %v, want *PathError", path, got, err)
			}
		})
	}
}

func TestObjectRefPathUnknownKind(t *testing.T) {
	if got := (ObjectRef{Kind: "x"}).Path(); got != "" {
		t.Errorf("ObjectRef{x}.Path() = %q, want empty", got)
	}
}

// TestExtPattern checks the rules' ExtPattern and the Go check agree.
func TestExtPattern(t *testing.T) {
	re := regexp.MustCompile(`^(?:` + ExtPattern + `)$`)
	for _, ext := range []string{"", "a", "jpg", "m4a", "12345678", "123456789", "JPG", "j.g", "ü", "a-b"} {
		if got, want := validExt(ext), re.MatchString(ext); got != want {
			t.Errorf("validExt(%q) = %v, want %v (ExtPattern)", ext, got, want)
		}
	}
}
