package model

import "strings"

// mediaType is one allowed upload content type.
type mediaType struct {
	contentType string
	kind        MessageType
	ext         string
}

// mediaTypes is the upload allow-list: content type, the message type it
// is sent as, and the extension of its storage object. Content types are
// matched exactly (lowercase, no parameters) because the Storage rules
// compare request.resource.contentType the same way. Immutable.
var mediaTypes = [...]mediaType{
	{"image/jpeg", MessageImage, "jpg"},
	{"image/png", MessageImage, "png"},
	{"image/webp", MessageImage, "webp"},
	{"image/heic", MessageImage, "heic"},
	{"image/gif", MessageImage, "gif"},
	{"video/mp4", MessageVideo, "mp4"},
	{"video/quicktime", MessageVideo, "mov"},
	{"audio/mp4", MessageAudio, "m4a"},
	{"audio/aac", MessageAudio, "aac"},
	{"audio/ogg", MessageAudio, "ogg"},
	{"audio/mpeg", MessageAudio, "mp3"},
	{"application/pdf", MessageFile, "pdf"},
	{"text/plain", MessageFile, "txt"},
}

// MediaKindOf returns the message type an upload of contentType is sent as
// (image, video, audio or file), or false when the content type is not
// allowed.
func MediaKindOf(contentType string) (MessageType, bool) {
	for _, m := range mediaTypes {
		if m.contentType == contentType {
			return m.kind, true
		}
	}
	return "", false
}

// ExtOf returns the storage object extension for an allowed content type.
func ExtOf(contentType string) (string, bool) {
	for _, m := range mediaTypes {
		if m.contentType == contentType {
			return m.ext, true
		}
	}
	return "", false
}

// ContentTypeOfExt returns the allowed content type stored under ext, e.g.
// to check a sniffed upload against its object name.
func ContentTypeOfExt(ext string) (string, bool) {
	for _, m := range mediaTypes {
		if m.ext == ext {
			return m.contentType, true
		}
	}
	return "", false
}

// ContentTypes returns the allowed content types of a media message type,
// in allow-list order; none for text and system.
func ContentTypes(kind MessageType) []string {
	var out []string
	for _, m := range mediaTypes {
		if m.kind == kind {
			out = append(out, m.contentType)
		}
	}
	return out
}

// MaxUploadSize returns the upload limit in bytes of a media message type,
// or 0 for a type that carries no media.
func MaxUploadSize(kind MessageType) int64 {
	switch kind {
	case MessageImage:
		return MaxImageSize
	case MessageVideo:
		return MaxVideoSize
	case MessageAudio:
		return MaxAudioSize
	case MessageFile:
		return MaxFileSize
	}
	return 0
}

// ValidateUpload checks an upload request (POST /v1/uploads): contentType on
// the allow-list and size 1..MaxUploadSize of its kind. It returns the kind.
// The API answers an oversize request with 413, so the size error is a
// FieldError with Field "size" like the others and the caller picks the
// status from it.
func ValidateUpload(contentType string, size int64) (MessageType, error) {
	var c checker
	kind, ok := MediaKindOf(contentType)
	if !ok {
		c.add("contentType", "not allowed; allowed: %s", allowedContentTypes())
	}
	c.size("size", kind, size)
	return kind, c.err()
}

// size checks an upload size against the limit of kind ("" when unknown:
// only positivity is checked).
func (c *checker) size(field string, kind MessageType, size int64) {
	switch limit := MaxUploadSize(kind); {
	case size <= 0:
		c.add(field, "must be positive")
	case limit > 0 && size > limit:
		c.add(field, "too large: %d > %d bytes for %s", size, limit, kind)
	}
}

func allowedContentTypes() string {
	all := make([]string, len(mediaTypes))
	for i, m := range mediaTypes {
		all[i] = m.contentType
	}
	return strings.Join(all, ", ")
}
