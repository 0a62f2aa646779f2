package push

import (
	"testing"
	"time"

	"github.com/hearth-chat/hearth/internal/model"
)

func TestMessageSuppressed(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		msg  model.Message
		want string
	}{
		{"text", model.Message{SenderID: "a", Type: model.MessageText, Text: "hi", CreatedAt: now}, ""},
		{"image", model.Message{SenderID: "a", Type: model.MessageImage, CreatedAt: now}, ""},
		{"system", model.Message{SenderID: "a", Type: model.MessageSystem, Text: "Ann created the group", CreatedAt: now}, ReasonSystemMessage},
		{"system mentioning", model.Message{SenderID: "a", Type: model.MessageSystem, Text: "Ann added Bob", Mentions: []string{"b"}, CreatedAt: now}, ReasonSystemMessage},
		{"unknown type", model.Message{SenderID: "a", Type: "poll", Text: "?", CreatedAt: now}, ReasonSystemMessage},
		{"deleted", model.Message{SenderID: "a", Type: model.MessageText, CreatedAt: now, DeletedAt: now, DeletedBy: "a"}, ReasonDeleted},
		{"deleted system", model.Message{SenderID: "a", Type: model.MessageSystem, CreatedAt: now, DeletedAt: now, DeletedBy: "a"}, ReasonDeleted},
	}
	for _, tt := range tests {
		if got := MessageSuppressed(tt.msg); got != tt.want {
			t.Errorf("MessageSuppressed(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
