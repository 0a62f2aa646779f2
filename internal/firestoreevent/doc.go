// Package firestoreevent decodes, encodes and registers Firestore document triggers
// delivered as CloudEvents (Cloud Functions 2nd gen, Eventarc, and the local Firestore
// emulator's --functions_emulator).
//
// Every door ends in [Decode]: [FromHTTP] reads a CloudEvents HTTP request (binary or
// structured mode); other transports build a [Meta] from the CloudEvent attributes and
// pass the data bytes. The data is a protobuf google.events.cloud.firestore.v1.DocumentEventData,
// decoded with firestorepb (wire-compatible) and protowire, because the
// google-cloudevents-go module is not available to this project.
//
// The Firestore emulator (1.19.9) differs from production in ways this package absorbs:
//   - the body is base64 text of the protobuf although Content-Type says
//     application/protobuf; [FromHTTP] accepts both that and raw protobuf bytes;
//   - ce-source reads "//firestore.googleapis.com/projects/projects/P/databases/D"
//     (doubled "projects/"); [Event.Project] is derived correctly either way;
//   - ce-time is truncated to whole seconds;
//   - the update mask is always empty: use [Event.ChangedFields] instead;
//   - deleting a document that does not exist fires created and written events
//     whose data is empty (base64 "GgA="): no value and no old value. Such events
//     decode without error and report [Event.Empty]; handlers should ignore them;
//   - there are no retries and one delivery thread, so a slow handler delays every
//     later event.
//
// [Encode] and [NewRequest] produce exactly what the emulator sends, so tests can post
// synthetic events (duplicates, reordering) to handlers, and [RegisterTrigger] registers
// a trigger with a running emulator.
package firestoreevent
