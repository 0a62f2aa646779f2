package model

import (
	"strings"
)

// Storage object layout. Media lives under the room and the uploader, so the
// Storage rules and the download endpoint can check membership from the path
// alone, and erasing a user's uploads is a prefix walk per room.
const (
	// MediaPrefix is the top folder of uploads: media/{roomId}/{uid}/{id}.{ext}.
	MediaPrefix = "media"
	// ThumbPrefix is the top folder of thumbnails Hearth renders:
	// thumbs/{roomId}/{uid}/{id}.jpg, the id of the media object they show.
	ThumbPrefix = "thumbs"
	// ThumbExt is the extension of every thumbnail.
	ThumbExt = "jpg"
	// ThumbContentType is the content type of every thumbnail.
	ThumbContentType = "image/jpeg"
	// ExtPattern matches a valid object extension (whole string, RE2).
	ExtPattern = `[a-z0-9]{1,8}`
)

// ObjectKind tells uploads from thumbnails.
type ObjectKind string

// The object kinds.
const (
	ObjectMedia ObjectKind = "media"
	ObjectThumb ObjectKind = "thumb"
)

// ObjectRef is a parsed storage object path.
type ObjectRef struct {
	Kind   ObjectKind
	RoomID string
	UID    string // the uploader (the message's sender)
	ID     string // the object id; a thumbnail shares its media's id
	Ext    string
}

// Path returns the object path of r, or "" for an unknown kind.
// ParseObjectPath(r.Path()) returns r.
func (r ObjectRef) Path() string {
	switch r.Kind {
	case ObjectMedia:
		return MediaObjectPath(r.RoomID, r.UID, r.ID, r.Ext)
	case ObjectThumb:
		return ThumbObjectPath(r.RoomID, r.UID, r.ID)
	}
	return ""
}

// MediaObjectPath returns "media/{roomId}/{uid}/{id}.{ext}".
func MediaObjectPath(roomID, uid, id, ext string) string {
	return MediaPrefix + "/" + roomID + "/" + uid + "/" + id + "." + ext
}

// ThumbObjectPath returns "thumbs/{roomId}/{uid}/{id}.jpg".
func ThumbObjectPath(roomID, uid, id string) string {
	return ThumbPrefix + "/" + roomID + "/" + uid + "/" + id + "." + ThumbExt
}

// ParseObjectPath recognises a media or thumbnail object path and returns
// its parts, all validated; the extension is checked for shape only (see
// ContentTypeOfExt). The error is a *PathError.
func ParseObjectPath(path string) (ObjectRef, error) {
	bad := func(reason string, err error) (ObjectRef, error) {
		return ObjectRef{}, &PathError{Path: path, Reason: reason, Err: err}
	}
	s := strings.Split(path, "/")
	if len(s) != 4 {
		return bad("want media/{roomId}/{uid}/{id}.{ext} or thumbs/{roomId}/{uid}/{id}.jpg", nil)
	}
	var r ObjectRef
	switch s[0] {
	case MediaPrefix:
		r.Kind = ObjectMedia
	case ThumbPrefix:
		r.Kind = ObjectThumb
	default:
		return bad("unknown folder "+s[0], nil)
	}
	r.RoomID, r.UID = s[1], s[2]
	// Ids contain no '.', so the first dot separates id and extension.
	var ok bool
	r.ID, r.Ext, ok = strings.Cut(s[3], ".")
	if !ok {
		return bad("missing extension", nil)
	}
	var c checker
	if reason := roomIDProblem(r.RoomID); reason != "" {
		c.add("roomId", "%s", reason)
	}
	if reason := idProblem(r.UID); reason != "" {
		c.add("uid", "%s", reason)
	}
	if reason := idProblem(r.ID); reason != "" {
		c.add("id", "%s", reason)
	}
	if !validExt(r.Ext) {
		c.add("ext", "want 1..%d lowercase letters or digits", MaxExtLen)
	} else if r.Kind == ObjectThumb && r.Ext != ThumbExt {
		c.add("ext", "thumbnails are .%s", ThumbExt)
	}
	if err := c.err(); err != nil {
		return bad("invalid part", err)
	}
	return r, nil
}

func validExt(ext string) bool {
	if ext == "" || len(ext) > MaxExtLen {
		return false
	}
	for i := 0; i < len(ext); i++ {
		if !('a' <= ext[i] && ext[i] <= 'z' || '0' <= ext[i] && ext[i] <= '9') {
			return false
		}
	}
	return true
}
