package model

import (
	"strings"
	"testing"
	"time"
)

const (
	msgRoom = "room1"
	msgID   = "3f1c2b9e-8d7a-4c6b-9e0f-1a2b3c4d5e6f"
)

func imageMedia() *Media {
	return &Media{
		Path:          MediaObjectPath(msgRoom, "alice", "obj1", "jpg"),
		ContentType:   "image/jpeg",
		Size:          1234,
		Width:         800,
		Height:        600,
		ThumbnailPath: ThumbObjectPath(msgRoom, "alice", "obj1"),
		Status:        MediaReady,
	}
}

func TestValidateMessage(t *testing.T) {
	text := Message{SenderID: "alice", Type: MessageText, Text: "hi @bob", Mentions: []string{"bob"}, CreatedAt: t0}
	image := Message{SenderID: "alice", Type: MessageImage, Media: imageMedia(), CreatedAt: t0}
	tests := []struct {
		name      string
		base      Message
		edit      func(*Message)
		wantField string
	}{
		{"text", text, func(*Message) {}, ""},
		{"text reply edited", text, func(m *Message) { m.ReplyTo = "m0"; m.EditedAt = t0.Add(time.Minute) }, ""},
		{"text 1 rune", text, func(m *Message) { m.Text = "a" }, ""},
		{"text max ascii", text, func(m *Message) { m.Text = runes('a', MaxTextLen) }, ""},
		{"text max multibyte", text, func(m *Message) { m.Text = runes('ж', MaxTextLen) }, ""},
		{"text max emoji (4 bytes each)", text, func(m *Message) { m.Text = runes('😀', MaxTextLen) }, ""},
		{"text multiline", text, func(m *Message) { m.Text = "a\nb\r\n\tc" }, ""},
		{"text too long", text, func(m *Message) { m.Text = runes('a', MaxTextLen+1) }, "text"},
		{"text too long emoji", text, func(m *Message) { m.Text = runes('😀', MaxTextLen+1) }, "text"},
		{"text empty", text, func(m *Message) { m.Text = "" }, "text"},
		{"text invalid utf8", text, func(m *Message) { m.Text = "a\xffb" }, "text"},
		{"text with media", text, func(m *Message) { m.Media = imageMedia() }, "media"},
		{"mentions max", text, func(m *Message) { m.Mentions = uids(MaxMentions) }, ""},
		{"mentions too many", text, func(m *Message) { m.Mentions = uids(MaxMentions + 1) }, "mentions"},
		{"mentions duplicate", text, func(m *Message) { m.Mentions = []string{"bob", "bob"} }, "mentions[1]"},
		{"mentions bad uid", text, func(m *Message) { m.Mentions = []string{""} }, "mentions[0]"},
		{"reply bad id", text, func(m *Message) { m.ReplyTo = "m.0" }, "replyTo"},
		{"reply to itself", text, func(m *Message) { m.ReplyTo = msgID }, "replyTo"},
		{"edited before created", text, func(m *Message) { m.EditedAt = t0.Add(-time.Second) }, "editedAt"},
		{"no sender", text, func(m *Message) { m.SenderID = "" }, "senderId"},
		{"no type", text, func(m *Message) { m.Type = "" }, "type"},
		{"unknown type", text, func(m *Message) { m.Type = "sticker" }, "type"},
		{"system", text, func(m *Message) { m.Type = MessageSystem; m.Mentions = nil }, ""},
		{"system empty", text, func(m *Message) { m.Type = MessageSystem; m.Text = "" }, "text"},

		{"image", image, func(*Message) {}, ""},
		{"image caption", image, func(m *Message) { m.Text = "look" }, ""},
		{"image pending, no thumb yet", image, func(m *Message) { m.Media.Status = MediaPending; m.Media.ThumbnailPath = ""; m.Media.Width = 0 }, ""},
		{"image caption too long", image, func(m *Message) { m.Text = runes('a', MaxTextLen+1) }, "text"},
		{"image no media", image, func(m *Message) { m.Media = nil }, "media"},
		{"image max size", image, func(m *Message) { m.Media.Size = MaxImageSize }, ""},
		{"image too large", image, func(m *Message) { m.Media.Size = MaxImageSize + 1 }, "media.size"},
		{"image zero size", image, func(m *Message) { m.Media.Size = 0 }, "media.size"},
		{"image as video type", image, func(m *Message) { m.Type = MessageVideo }, "media.contentType"},
		{"image content type not allowed", image, func(m *Message) { m.Media.ContentType = "image/svg+xml" }, "media.contentType"},
		{"image content type with params", image, func(m *Message) { m.Media.ContentType = "image/jpeg; q=1" }, "media.contentType"},
		{"image ext mismatch", image, func(m *Message) { m.Media.ContentType = "image/png" }, "media.path"},
		{"image other room", image, func(m *Message) { m.Media.Path = MediaObjectPath("room2", "alice", "obj1", "jpg") }, "media.path"},
		{"image other sender", image, func(m *Message) { m.Media.Path = MediaObjectPath(msgRoom, "bob", "obj1", "jpg") }, "media.path"},
		{"image thumbs path as media", image, func(m *Message) { m.Media.Path = ThumbObjectPath(msgRoom, "alice", "obj1") }, "media.path"},
		{"image traversal", image, func(m *Message) { m.Media.Path = "media/room1/alice/../bob/x.jpg" }, "media.path"},
		{"image bad thumbnail", image, func(m *Message) { m.Media.ThumbnailPath = ThumbObjectPath("room2", "alice", "obj1") }, "media.thumbnailPath"},
		{"image negative width", image, func(m *Message) { m.Media.Width = -1 }, "media.width"},
		{"image negative height", image, func(m *Message) { m.Media.Height = -1 }, "media.height"},
		{"image bad status", image, func(m *Message) { m.Media.Status = "" }, "media.status"},
		{"video", image, func(m *Message) {
			m.Type = MessageVideo
			m.Media = &Media{Path: MediaObjectPath(msgRoom, "alice", "v1", "mov"), ContentType: "video/quicktime", Size: MaxVideoSize, DurationMs: 61_000, Status: MediaPending}
		}, ""},
		{"video too large", image, func(m *Message) {
			m.Type = MessageVideo
			m.Media = &Media{Path: MediaObjectPath(msgRoom, "alice", "v1", "mp4"), ContentType: "video/mp4", Size: MaxVideoSize + 1, Status: MediaPending}
		}, "media.size"},
		{"audio", image, func(m *Message) {
			m.Type = MessageAudio
			m.Media = &Media{Path: MediaObjectPath(msgRoom, "alice", "a1", "m4a"), ContentType: "audio/mp4", Size: MaxAudioSize, DurationMs: 5000, Status: MediaReady}
		}, ""},
		{"audio negative duration", image, func(m *Message) {
			m.Type = MessageAudio
			m.Media = &Media{Path: MediaObjectPath(msgRoom, "alice", "a1", "ogg"), ContentType: "audio/ogg", Size: 10, DurationMs: -1, Status: MediaReady}
		}, "media.durationMs"},
		{"file", image, func(m *Message) {
			m.Type = MessageFile
			m.Text = "contract"
			m.Media = &Media{Path: MediaObjectPath(msgRoom, "alice", "f1", "pdf"), ContentType: "application/pdf", Size: MaxFileSize, Status: MediaRejected}
		}, ""},
		{"file too large", image, func(m *Message) {
			m.Type = MessageFile
			m.Media = &Media{Path: MediaObjectPath(msgRoom, "alice", "f1", "txt"), ContentType: "text/plain", Size: MaxFileSize + 1, Status: MediaReady}
		}, "media.size"},

		{"tombstone", text, func(m *Message) {
			m.Text = ""
			m.Mentions = nil
			m.DeletedAt = t0.Add(time.Hour)
			m.DeletedBy = "alice"
		}, ""},
		{"redacted image", image, func(m *Message) { m.Media = nil; m.DeletedAt = t0.Add(time.Hour); m.DeletedBy = "admin1" }, ""},
		{"tombstone keeps text", text, func(m *Message) { m.Mentions = nil; m.DeletedAt = t0; m.DeletedBy = "alice" }, "text"},
		{"tombstone keeps mentions", text, func(m *Message) { m.Text = ""; m.DeletedAt = t0; m.DeletedBy = "alice" }, "mentions"},
		{"tombstone keeps media", image, func(m *Message) { m.DeletedAt = t0; m.DeletedBy = "alice" }, "media"},
		{"tombstone without deleter", text, func(m *Message) { m.Text = ""; m.Mentions = nil; m.DeletedAt = t0 }, "deletedBy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.base
			if m.Media != nil {
				md := *m.Media
				m.Media = &md
			}
			tt.edit(&m)
			if err := ValidateMessage(msgRoom, msgID, m); !wantFields(err, tt.wantField) {
				t.Errorf("ValidateMessage(%q, %q, %s %d runes media=%+v) = %v, want error on %q",
					msgRoom, msgID, m.Type, len([]rune(m.Text)), m.Media, err, tt.wantField)
			}
		})
	}
}

func TestValidateMessageIDs(t *testing.T) {
	m := Message{SenderID: "alice", Type: MessageText, Text: "hi"}
	if err := ValidateMessage("room_1", msgID, m); !wantFields(err, "roomId") {
		t.Errorf("ValidateMessage(room_1) = %v, want error on roomId", err)
	}
	if err := ValidateMessage(msgRoom, strings.Repeat("m", MaxIDLen+1), m); !wantFields(err, "messageId") {
		t.Errorf("ValidateMessage(long id) = %v, want error on messageId", err)
	}
}

func TestMessageTypeFlags(t *testing.T) {
	tests := []struct {
		t                  MessageType
		media, clientWrite bool
	}{
		{MessageText, false, true},
		{MessageImage, true, true},
		{MessageVideo, true, true},
		{MessageAudio, true, true},
		{MessageFile, true, true},
		{MessageSystem, false, false},
		{"sticker", false, false},
	}
	for _, tt := range tests {
		if got := tt.t.HasMedia(); got != tt.media {
			t.Errorf("MessageType(%q).HasMedia() = %v, want %v", tt.t, got, tt.media)
		}
		if got := tt.t.ClientWritable(); got != tt.clientWrite {
			t.Errorf("MessageType(%q).ClientWritable() = %v, want %v", tt.t, got, tt.clientWrite)
		}
	}
}
