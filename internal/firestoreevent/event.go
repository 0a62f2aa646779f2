package firestoreevent

import (
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/proto"
)

// CloudEvent types of Firestore document triggers. A trigger registered with one of
// these plus [WithAuthContext] receives the same data and two more attributes.
const (
	TypeCreated = "google.cloud.firestore.document.v1.created"
	TypeUpdated = "google.cloud.firestore.document.v1.updated"
	TypeDeleted = "google.cloud.firestore.document.v1.deleted"
	TypeWritten = "google.cloud.firestore.document.v1.written"

	// WithAuthContext is the suffix of the event types that also carry the author
	// (ce-authtype, ce-authid). The emulator always sends "unknown" and a fake id.
	WithAuthContext = ".withAuthContext"
)

const typePrefix = "google.cloud.firestore.document.v1."

// Kind is a kind of document change: the one a trigger was registered for (Event.Kind)
// or the one that happened (Event.Change).
type Kind int

// Kinds of document change. KindWritten, for trigger types only, means any change.
const (
	KindUnknown Kind = iota
	KindCreated
	KindUpdated
	KindDeleted
	KindWritten
)

// String returns the short name used in CloudEvent types: "created", "updated", ...
func (k Kind) String() string {
	switch k {
	case KindCreated:
		return "created"
	case KindUpdated:
		return "updated"
	case KindDeleted:
		return "deleted"
	case KindWritten:
		return "written"
	}
	return "unknown"
}

// KindOf returns the Kind of a Firestore CloudEvent type, with or without the
// [WithAuthContext] suffix; KindUnknown for any other type.
func KindOf(eventType string) Kind {
	short, ok := strings.CutPrefix(strings.TrimSuffix(eventType, WithAuthContext), typePrefix)
	if !ok {
		return KindUnknown
	}
	switch short {
	case "created":
		return KindCreated
	case "updated":
		return KindUpdated
	case "deleted":
		return KindDeleted
	case "written":
		return KindWritten
	}
	return KindUnknown
}

// Meta holds the CloudEvent attributes of a Firestore event, as sent in ce-* headers or
// structured-mode JSON. Project, Database, Namespace and Document are Firestore's
// extension attributes; Decode fills them from Source, Subject or the documents when a
// sender leaves them out.
type Meta struct {
	ID          string    // ce-id: unique per delivery target; duplicates share it
	Source      string    // ce-source, kept as sent (the emulator doubles "projects/")
	SpecVersion string    // ce-specversion, "1.0"
	Type        string    // ce-type, the full type, e.g. TypeWritten
	Subject     string    // ce-subject, "documents/" + Document
	Time        time.Time // ce-time; zero when absent (the emulator sends whole seconds)

	DataContentType string // ce-datacontenttype, "application/protobuf"
	DataSchema      string // ce-dataschema

	Location  string // ce-location, e.g. "us-central1"
	Project   string // ce-project
	Database  string // ce-database, "(default)" unless a named database
	Namespace string // ce-namespace, "(default)"
	Document  string // ce-document: relative path, e.g. "rooms/r1/messages/m1"

	AuthType string // ce-authtype, only for *.withAuthContext types
	AuthID   string // ce-authid, only for *.withAuthContext types
}

// Event is a decoded Firestore document event. Its Meta fields (ID, Type, Source,
// Subject, Time, Project, Database, Document, ...) are promoted.
type Event struct {
	Meta

	// Kind is the kind of trigger, from Type; KindWritten for a written trigger.
	// Change tells what actually happened.
	Kind Kind

	// Value is the document after the change; nil after a delete.
	Value *firestorepb.Document
	// OldValue is the document before the change; nil before a create.
	OldValue *firestorepb.Document
	// UpdateMask lists the changed field paths, when the sender fills it in. The
	// emulator never does: prefer ChangedFields.
	UpdateMask []string
}

// Exists reports whether the document exists after the change.
func (e *Event) Exists() bool { return e.Value != nil }

// Existed reports whether the document existed before the change.
func (e *Event) Existed() bool { return e.OldValue != nil }

// Empty reports an event with neither value nor old value. The emulator sends such
// events (data "GgA=", typed created and written) when a client deletes a document
// that does not exist; they describe no change and handlers should ignore them.
func (e *Event) Empty() bool { return e.Value == nil && e.OldValue == nil }

// Change returns what happened to the document, from the presence of Value and
// OldValue: KindCreated, KindUpdated or KindDeleted; KindUnknown for an Empty event.
func (e *Event) Change() Kind {
	switch {
	case e.Value != nil && e.OldValue != nil:
		return KindUpdated
	case e.Value != nil:
		return KindCreated
	case e.OldValue != nil:
		return KindDeleted
	}
	return KindUnknown
}

// Before returns the fields of the document before the change as Go values (see
// Fields), or nil when it did not exist.
func (e *Event) Before() map[string]any { return Fields(e.OldValue) }

// After returns the fields of the document after the change as Go values (see
// Fields), or nil when it does not exist.
func (e *Event) After() map[string]any { return Fields(e.Value) }

// ChangedFields returns the sorted names of the top-level fields that were added,
// removed or changed between OldValue and Value. It is empty for a no-op rewrite,
// which fires updated and written events (unlike v1 triggers): handlers return early
// on it. For a create or a delete it lists every field of the document.
func (e *Event) ChangedFields() []string {
	var before, after map[string]*firestorepb.Value
	if e.OldValue != nil {
		before = e.OldValue.GetFields()
	}
	if e.Value != nil {
		after = e.Value.GetFields()
	}
	var changed []string
	for name, v := range after {
		if old, ok := before[name]; !ok || !proto.Equal(old, v) {
			changed = append(changed, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	return changed
}
