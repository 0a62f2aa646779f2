package functions

import (
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore/apiv1/firestorepb"

	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// Names of the built-in triggers (the emulator trigger ids, the Cloud Functions names
// and the CloudEventHandler paths /events/{name}).
const (
	TriggerMessageWritten    = "onMessageWritten"
	TriggerMemberWritten     = "onMemberWritten"
	TriggerMembershipWritten = "onMembershipWritten"
	TriggerPresenceWritten   = "onPresenceWritten"
	TriggerUserWritten       = "onUserWritten"
	TriggerRoomWritten       = "onRoomWritten"
	TriggerReactionWritten   = "onReactionWritten"
	TriggerBlockWritten      = "onBlockWritten"
)

// BuiltinTriggerNames returns the names of the triggers New installs, in order.
func BuiltinTriggerNames() []string {
	return []string{
		TriggerMessageWritten, TriggerMemberWritten, TriggerMembershipWritten,
		TriggerPresenceWritten, TriggerUserWritten, TriggerRoomWritten,
		TriggerReactionWritten, TriggerBlockWritten,
	}
}

// builtinTriggers are all "written" triggers: each handler looks at what changed
// (firestoreevent.Event.Change, ChangedFields) and returns early on changes that are not
// its business, its own writes and no-op rewrites (which fire v2 triggers).
func (p *Pipeline) builtinTriggers() []Trigger {
	t := func(name, pattern string, h Handler) Trigger {
		return Trigger{Name: name, EventType: firestoreevent.TypeWritten, Document: pattern, Handle: h}
	}
	return []Trigger{
		t(TriggerMessageWritten, model.MessagePattern, p.onMessageWritten),
		t(TriggerMemberWritten, model.MemberPattern, p.onMemberWritten),
		t(TriggerMembershipWritten, model.MembershipPattern, p.onMembershipWritten),
		t(TriggerPresenceWritten, model.PresencePattern, p.onPresenceWritten),
		t(TriggerUserWritten, model.UserPattern, p.onUserWritten),
		t(TriggerRoomWritten, model.RoomPattern, p.onRoomWritten),
		t(TriggerReactionWritten, model.ReactionPattern, p.onReactionWritten),
		t(TriggerBlockWritten, model.BlockPattern, p.onBlockWritten),
	}
}

// params returns the path parameters of ev's document under pattern; a document that
// does not match (a misrouted event) is a Permanent error.
func params(pattern string, ev *firestoreevent.Event) (map[string]string, error) {
	ps, ok := firestoreevent.Match(pattern, ev.Document)
	if !ok {
		return nil, Permanent(&mismatchError{pattern: pattern, document: ev.Document})
	}
	return ps, nil
}

// decodeChange decodes the event's old and new document (either may be absent) into
// before and after; what names the document in the Permanent error.
func decodeChange[T any](ev *firestoreevent.Event, what string, before, after *T) error {
	for _, d := range []struct {
		doc *firestorepb.Document
		dst *T
	}{{ev.OldValue, before}, {ev.Value, after}} {
		if d.doc == nil {
			continue
		}
		if err := firestoreevent.DataTo(d.doc, d.dst); err != nil {
			return Permanent(fmt.Errorf("decode %s: %w", what, err))
		}
	}
	return nil
}

type mismatchError struct{ pattern, document string }

func (e *mismatchError) Error() string {
	return "document " + e.document + " does not match " + e.pattern
}

// forEach runs fn for every id with at most limit at once, and returns the first error
// (the event is then retried as a whole; every fn is idempotent).
func forEach(ctx context.Context, ids []string, limit int, fn func(ctx context.Context, id string) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, id := range ids {
		g.Go(func() error { return fn(ctx, id) })
	}
	return g.Wait()
}

// only reports whether every changed field is one of allowed.
func only(changed []string, allowed ...string) bool {
	for _, f := range changed {
		if !slices.Contains(allowed, f) {
			return false
		}
	}
	return true
}

// TriggerSpecs returns the built-in triggers without their handlers (Handle is nil):
// what a deployment registers, read from the same table New installs.
func TriggerSpecs() []Trigger {
	ts := (&Pipeline{}).builtinTriggers()
	for i := range ts {
		ts[i].Handle = nil
	}
	return ts
}
