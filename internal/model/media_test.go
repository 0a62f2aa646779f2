package model

import (
	"testing"
)

func TestMediaKindOf(t *testing.T) {
	tests := []struct {
		contentType string
		kind        MessageType
		ext         string
	}{
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
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			if got, ok := MediaKindOf(tt.contentType); !ok || got != tt.kind {
				t.Errorf("MediaKindOf(%q) = %q, %v, want %q, true", tt.contentType, got, ok, tt.kind)
			}
			if got, ok := ExtOf(tt.contentType); !ok || got != tt.ext {
				t.Errorf("ExtOf(%q) = %q, %v, want %q, true", tt.contentType, got, ok, tt.ext)
			}
			if got, ok := ContentTypeOfExt(tt.ext); !ok || got != tt.contentType {
				t.Errorf("ContentTypeOfExt(%q) = %q, %v, want %q, true", tt.ext, got, ok, tt.contentType)
			}
		})
	}
	for _, bad := range []string{"", "image/svg+xml", "IMAGE/JPEG", "image/jpeg; charset=x", "text/html", "application/octet-stream", "video/x-msvideo"} {
		if got, ok := MediaKindOf(bad); ok {
			t.Errorf("MediaKindOf(%q) = %q, true, want false", bad, got)
		}
		if got, ok := ExtOf(bad); ok {
			t.Errorf("ExtOf(%q) = %q, true, want false", bad, got)
		}
	}
	if got, ok := ContentTypeOfExt("exe"); ok {
		t.Errorf("ContentTypeOfExt(exe) = %q, true, want false", got)
	}
}

func TestMaxUploadSize(t *testing.T) {
	tests := []struct {
		kind MessageType
		want int64
	}{
		{MessageImage, 20 << 20},
		{MessageVideo, 200 << 20},
		{MessageAudio, 20 << 20},
		{MessageFile, 50 << 20},
		{MessageText, 0},
		{MessageSystem, 0},
	}
	for _, tt := range tests {
		if got := MaxUploadSize(tt.kind); got != tt.want {
			t.Errorf("MaxUploadSize(%q) = %d, want %d", tt.kind, got, tt.want)
		}
	}
}

func TestValidateUpload(t *testing.T) {
	tests := []struct {
		contentType string
		size        int64
		wantKind    MessageType
		wantField   string
	}{
		{"image/png", 1, MessageImage, ""},
		{"image/png", MaxImageSize, MessageImage, ""},
		{"image/png", MaxImageSize + 1, MessageImage, "size"},
		{"video/mp4", MaxVideoSize, MessageVideo, ""},
		{"video/mp4", MaxVideoSize + 1, MessageVideo, "size"},
		{"audio/mpeg", MaxAudioSize, MessageAudio, ""},
		{"audio/mpeg", MaxAudioSize + 1, MessageAudio, "size"},
		{"application/pdf", MaxFileSize, MessageFile, ""},
		{"application/pdf", MaxFileSize + 1, MessageFile, "size"},
		{"image/png", 0, MessageImage, "size"},
		{"image/png", -5, MessageImage, "size"},
		{"image/svg+xml", 10, "", "contentType"},
		{"", 10, "", "contentType"},
	}
	for _, tt := range tests {
		kind, err := ValidateUpload(tt.contentType, tt.size)
		if kind != tt.wantKind || !wantFields(err, tt.wantField) {
			t.Errorf("ValidateUpload(%q, %d) = %q, %v, want %q, error on %q", tt.contentType, tt.size, kind, err, tt.wantKind, tt.wantField)
		}
	}
}

func TestContentTypes(t *testing.T) {
	tests := []struct {
		kind MessageType
		n    int
	}{{MessageImage, 5}, {MessageVideo, 2}, {MessageAudio, 4}, {MessageFile, 2}, {MessageText, 0}}
	for _, tt := range tests {
		got := ContentTypes(tt.kind)
		if len(got) != tt.n {
			t.Errorf("ContentTypes(%q) = %v, want %d types", tt.kind, got, tt.n)
		}
		for _, ct := range got {
			if k, _ := MediaKindOf(ct); k != tt.kind {
				t.Errorf("MediaKindOf(%q) = %q, want %q", ct, k, tt.kind)
			}
		}
	}
}
