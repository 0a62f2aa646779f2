package firestoreevent

import (
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Captured from the Firestore emulator 1.19.9: a v2 created
// event for rooms/r1/messages/m2 with {text: "hi", uid: "alice"}.
const (
	capturedBody  = "CoMBCkVwcm9qZWN0cy9kZW1vLWNoYXQvZGF0YWJhc2VzLyhkZWZhdWx0KS9kb2N1bWVudHMvcm9vbXMvcjEvbWVzc2FnZXMvbTISDQoEdGV4dBIFigECaGkSDwoDdWlkEgiKAQVhbGljZRoMCPiapNgGEMizicICIgwI+Jqk2AYQyLOJwgIaAA=="
	capturedEmpty = "GgA=" // delete of a missing document: no value, no old value
)

// capturedHeaders are the headers the emulator sent with capturedBody.
var capturedHeaders = map[string]string{
	"ce-specversion":     "1.0",
	"ce-type":            "google.cloud.firestore.document.v1.created",
	"ce-source":          "//firestore.googleapis.com/projects/projects/demo-hearth/databases/(default)",
	"ce-id":              "d1714447-142c-456f-a565-82b461a89c19",
	"ce-subject":         "documents/rooms/r1/messages/m2",
	"ce-time":            "2026-11-27T04:56:24Z",
	"ce-datacontenttype": "application/protobuf",
	"ce-dataschema":      DataSchema,
	"ce-location":        "us-central1",
	"ce-project":         "demo-hearth",
	"ce-database":        "(default)",
	"ce-namespace":       "(default)",
	"ce-document":        "rooms/r1/messages/m2",
	"Content-Type":       "application/protobuf",
}

func strv(s string) *firestorepb.Value {
	return &firestorepb.Value{ValueType: &firestorepb.Value_StringValue{StringValue: s}}
}

func intv(i int64) *firestorepb.Value {
	return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: i}}
}

func tsv(t time.Time) *firestorepb.Value {
	return &firestorepb.Value{ValueType: &firestorepb.Value_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

// message returns rooms/r1/messages/m1 of project demo-hearth with the given text.
func message(text string, updated time.Time) *firestorepb.Document {
	return &firestorepb.Document{
		Name: "projects/demo-hearth/databases/(default)/documents/rooms/r1/messages/m1",
		Fields: map[string]*firestorepb.Value{
			"text": strv(text),
			"uid":  strv("alice"),
			"n":    intv(1),
		},
		CreateTime: timestamppb.New(time.Date(2026, 11, 27, 4, 56, 7, 0, time.UTC)),
		UpdateTime: timestamppb.New(updated),
	}
}
