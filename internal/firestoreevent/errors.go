package firestoreevent

import (
	"errors"
	"fmt"
)

// ErrNotCloudEvent is returned when a request carries no CloudEvent: required attributes
// (specversion, id, source, type) are missing or the content type is not understood.
var ErrNotCloudEvent = errors.New("not a CloudEvent")

// ErrUnsupportedType is returned when the CloudEvent type is not a Firestore document
// event (google.cloud.firestore.document.v1.*).
var ErrUnsupportedType = errors.New("unsupported CloudEvent type")

// ErrBadPayload is returned when the event data is not a DocumentEventData, in any of
// the accepted encodings, or is too large.
var ErrBadPayload = errors.New("bad Firestore event payload")

// ErrNoDocument is returned by [DataTo] when the document is nil: the value of a
// delete event, or the old value of a create event.
var ErrNoDocument = errors.New("no document")

// RegisterError reports a trigger registration the emulator answered with a non-2xx
// status. Body holds (the start of) the emulator's reply.
type RegisterError struct {
	TriggerID  string
	StatusCode int
	Body       string
}

// Error implements error.
func (e *RegisterError) Error() string {
	return fmt.Sprintf("register trigger %s: emulator answered %d: %s", e.TriggerID, e.StatusCode, e.Body)
}
