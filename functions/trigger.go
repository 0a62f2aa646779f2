// Package functions holds Hearth's Firestore-triggered handlers and schedulers: inbox
// fan-out, exact unread counts, read receipts, presence, and the doors through which
// events reach them (Cloud Functions / Eventarc CloudEvents, `hearth serve`, and the local
// Firestore emulator).
package functions

import (
	"context"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// Handler handles one decoded Firestore event. It must be idempotent: production delivery
// is at-least-once and unordered. Returning an error asks for a retry.
type Handler func(ctx context.Context, ev *firestoreevent.Event) error

// Trigger binds a Handler to document events. Name is the function name (also the trigger
// id registered with the emulator and the Cloud Functions name in production).
type Trigger struct {
	Name      string // e.g. "onMessageWritten"
	EventType string // firestoreevent.TypeWritten, TypeCreated, ...
	Document  string // relative path pattern, e.g. "rooms/{roomId}/messages/{messageId}"
	Handle    Handler
}
