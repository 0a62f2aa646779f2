package firestoreevent

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func TestDecodeDocumentEventDataCaptured(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(capturedBody)
	if err != nil {
		t.Fatal(err)
	}
	value, oldValue, mask, err := DecodeDocumentEventData(raw)
	if err != nil {
		t.Fatalf("DecodeDocumentEventData(captured) error = %v", err)
	}
	if oldValue != nil || len(mask) != 0 {
		t.Errorf("DecodeDocumentEventData(captured) old value, mask = %v, %v, want nil, empty", oldValue, mask)
	}
	if got, want := value.GetName(), "projects/demo-chat/databases/(default)/documents/rooms/r1/messages/m2"; got != want {
		t.Errorf("value name = %q, want %q", got, want)
	}
	if got := value.GetFields()["text"].GetStringValue(); got != "hi" {
		t.Errorf("text = %q, want hi", got)
	}
	if got, want := value.GetCreateTime().AsTime(), time.Date(2026, 11, 27, 4, 56, 24, 675437000, time.UTC); !got.Equal(want) {
		t.Errorf("create time = %v, want %v", got, want)
	}

	// Encoding what was decoded gives back the emulator's bytes exactly.
	again, err := EncodeDocumentEventData(value, oldValue, mask)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(again); got != capturedBody {
		t.Errorf("EncodeDocumentEventData(decoded) = %s, want the captured body", got)
	}
}

func TestDecodeDocumentEventDataEmpty(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(capturedEmpty)
	value, oldValue, mask, err := DecodeDocumentEventData(raw)
	if err != nil || value != nil || oldValue != nil || len(mask) != 0 {
		t.Errorf("DecodeDocumentEventData(GgA=) = %v, %v, %v, %v, want all nil", value, oldValue, mask, err)
	}
	if got, _ := EncodeDocumentEventData(nil, nil, nil); base64.StdEncoding.EncodeToString(got) != capturedEmpty {
		t.Errorf("EncodeDocumentEventData(nil, nil, nil) = %x, want GgA=", got)
	}
}

func TestDecodeDocumentEventDataWire(t *testing.T) {
	docBytes := func(d *firestorepb.Document) []byte {
		b, err := proto.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := &firestorepb.Document{Name: "projects/p/databases/(default)/documents/c/a", Fields: map[string]*firestorepb.Value{"x": intv(1)}}
	b := &firestorepb.Document{Fields: map[string]*firestorepb.Value{"y": intv(2)}}

	// Unknown fields are skipped, a repeated message is merged, and the mask is read.
	var data []byte
	data = protowire.AppendTag(data, 9, protowire.VarintType)
	data = protowire.AppendVarint(data, 42)
	data = protowire.AppendTag(data, 2, protowire.BytesType)
	data = protowire.AppendBytes(data, docBytes(a))
	data = protowire.AppendTag(data, 2, protowire.BytesType)
	data = protowire.AppendBytes(data, docBytes(b))
	mask, _ := proto.Marshal(&firestorepb.DocumentMask{FieldPaths: []string{"x", "y"}})
	data = protowire.AppendTag(data, 3, protowire.BytesType)
	data = protowire.AppendBytes(data, mask)

	value, oldValue, gotMask, err := DecodeDocumentEventData(data)
	if err != nil {
		t.Fatal(err)
	}
	if value != nil {
		t.Errorf("value = %v, want nil", value)
	}
	if oldValue.GetName() != a.Name || oldValue.GetFields()["x"].GetIntegerValue() != 1 || oldValue.GetFields()["y"].GetIntegerValue() != 2 {
		t.Errorf("old value = %v, want a and b merged", oldValue)
	}
	if len(gotMask) != 2 || gotMask[0] != "x" || gotMask[1] != "y" {
		t.Errorf("mask = %v, want [x y]", gotMask)
	}
}

func TestDecodeDocumentEventDataErrors(t *testing.T) {
	// A Document whose name (field 1, a proto3 string) is not UTF-8.
	var notUTF8 []byte
	notUTF8 = protowire.AppendTag(notUTF8, 1, protowire.BytesType)
	notUTF8 = protowire.AppendBytes(notUTF8, []byte{0xff, 0xfe})

	tests := []struct {
		name string
		data []byte
	}{
		{"truncated tag", []byte{0x80}},
		{"truncated length", []byte{0x0a}},
		{"length past end", []byte{0x0a, 0x05, 0x01}},
		{"value as varint", []byte{0x08, 0x01}},
		{"unknown field truncated", []byte{0x48}},
		{"document not UTF-8", append([]byte{0x0a, byte(len(notUTF8))}, notUTF8...)},
		{"document garbage", []byte{0x0a, 0x02, 0xff, 0xff}},
		{"mask garbage", []byte{0x1a, 0x01, 0x0a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := DecodeDocumentEventData(tt.data)
			if !errors.Is(err, ErrBadPayload) {
				t.Errorf("DecodeDocumentEventData(%x) error = %v, want ErrBadPayload", tt.data, err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	meta := Meta{ID: "e1", Type: TypeWritten + WithAuthContext, Source: "//firestore.googleapis.com/projects/p/databases/(default)"}
	ev, err := Decode(meta, []byte(capturedBody))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != KindWritten || ev.Change() != KindCreated {
		t.Errorf("Decode kind, change = %v, %v, want written, created", ev.Kind, ev.Change())
	}
	if ev.Project != "p" || ev.Database != "(default)" || ev.Document != "rooms/r1/messages/m2" {
		t.Errorf("Decode project, database, document = %q, %q, %q, want from source and value name", ev.Project, ev.Database, ev.Document)
	}

	// Surrounding whitespace and missing padding do not hide base64.
	if ev, err := Decode(meta, []byte("\n GgA \r\n")); err != nil || !ev.Empty() {
		t.Errorf("Decode(GgA without padding) = %v, %v, want an empty event", ev, err)
	}
	// An empty body is an empty DocumentEventData.
	if ev, err := Decode(meta, nil); err != nil || !ev.Empty() {
		t.Errorf("Decode(nil) = %v, %v, want an empty event", ev, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		data string
		want error
	}{
		{"no type", Meta{ID: "e"}, capturedBody, ErrUnsupportedType},
		{"storage type", Meta{Type: "google.cloud.storage.object.v1.finalized"}, capturedBody, ErrUnsupportedType},
		{"unknown firestore type", Meta{Type: "google.cloud.firestore.document.v1.touched"}, capturedBody, ErrUnsupportedType},
		{"base64 of garbage", Meta{Type: TypeCreated}, base64.StdEncoding.EncodeToString([]byte{0x0a, 0x09, 0x01}), ErrBadPayload},
		{"text", Meta{Type: TypeCreated}, "hello, world", ErrBadPayload},
		{"bad JSON", Meta{Type: TypeCreated, DataContentType: "application/json"}, `{"value":`, ErrBadPayload},
		{"bad JSON document", Meta{Type: TypeCreated, DataContentType: "application/json"}, `{"value":{"fields":7}}`, ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(tt.meta, []byte(tt.data))
			if !errors.Is(err, tt.want) {
				t.Errorf("Decode(%+v, %q) = %v, %v, want error %v", tt.meta, tt.data, ev, err, tt.want)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	data := `{"oldValue":{"name":"projects/p/databases/(default)/documents/rooms/r1","fields":{"name":{"stringValue":"Team"}}},
	          "value":{"name":"projects/p/databases/(default)/documents/rooms/r1","fields":{"name":{"stringValue":"Team 2"}},"createTime":"2026-11-27T04:56:07.608363Z"},
	          "updateMask":{"fieldPaths":["name"]}}`
	ev, err := Decode(Meta{ID: "j", Type: TypeUpdated, DataContentType: "application/json; charset=utf-8"}, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Change() != KindUpdated || ev.After()["name"] != "Team 2" || ev.Before()["name"] != "Team" {
		t.Errorf("Decode(JSON) change, after, before = %v, %v, %v", ev.Change(), ev.After(), ev.Before())
	}
	if len(ev.UpdateMask) != 1 || ev.UpdateMask[0] != "name" || ev.Document != "rooms/r1" || ev.Project != "p" {
		t.Errorf("Decode(JSON) mask, document, project = %v, %q, %q", ev.UpdateMask, ev.Document, ev.Project)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct{ source, project, database string }{
		{"//firestore.googleapis.com/projects/p1/databases/(default)", "p1", "(default)"},
		{"//firestore.googleapis.com/projects/projects/demo-hearth/databases/(default)", "demo-hearth", "(default)"},
		{"//firestore.googleapis.com/projects/p1/databases/chat", "p1", "chat"},
		{"//firestore.googleapis.com/projects/p1", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if p, d := parseSource(tt.source); p != tt.project || d != tt.database {
			t.Errorf("parseSource(%q) = %q, %q, want %q, %q", tt.source, p, d, tt.project, tt.database)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		typ  string
		want Kind
	}{
		{TypeCreated, KindCreated},
		{TypeUpdated, KindUpdated},
		{TypeDeleted, KindDeleted},
		{TypeWritten, KindWritten},
		{TypeDeleted + WithAuthContext, KindDeleted},
		{"providers/cloud.firestore/eventTypes/document.create", KindUnknown},
		{"google.cloud.firestore.document.v1.created.extra", KindUnknown},
		{"", KindUnknown},
	}
	for _, tt := range tests {
		if got := KindOf(tt.typ); got != tt.want {
			t.Errorf("KindOf(%q) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}
