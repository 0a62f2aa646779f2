package functions

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// eventOf builds the written event that took a document from old to value (either may
// be nil, but not both), as the emulator would deliver it.
func eventOf(t *testing.T, value, old *firestore.DocumentSnapshot) *firestoreevent.Event {
	t.Helper()
	ev := &firestoreevent.Event{Kind: firestoreevent.KindWritten}
	ev.Type = firestoreevent.TypeWritten
	for _, s := range []*firestore.DocumentSnapshot{value, old} {
		if s != nil {
			ev.Document = relPath(s.Ref.Path)
			ev.Project = strings.Split(s.Ref.Path, "/")[1]
		}
	}
	if value != nil && value.Exists() {
		ev.Value = pbDoc(t, value)
	}
	if old != nil && old.Exists() {
		ev.OldValue = pbDoc(t, old)
	}
	return ev
}

func relPath(full string) string {
	_, rel, _ := strings.Cut(full, "/documents/")
	return rel
}

// pbDoc converts a snapshot into the protobuf document of an event.
func pbDoc(t *testing.T, s *firestore.DocumentSnapshot) *firestorepb.Document {
	t.Helper()
	fields := map[string]*firestorepb.Value{}
	for k, v := range s.Data() {
		fields[k] = pbValue(t, v)
	}
	return &firestorepb.Document{
		Name:       s.Ref.Path,
		Fields:     fields,
		CreateTime: timestamppb.New(s.CreateTime),
		UpdateTime: timestamppb.New(s.UpdateTime),
	}
}

func pbValue(t *testing.T, v any) *firestorepb.Value {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return &firestorepb.Value{ValueType: &firestorepb.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}}
	case bool:
		return &firestorepb.Value{ValueType: &firestorepb.Value_BooleanValue{BooleanValue: x}}
	case int64:
		return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: x}}
	case int:
		return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: int64(x)}}
	case float64:
		return &firestorepb.Value{ValueType: &firestorepb.Value_DoubleValue{DoubleValue: x}}
	case string:
		return &firestorepb.Value{ValueType: &firestorepb.Value_StringValue{StringValue: x}}
	case time.Time:
		return &firestorepb.Value{ValueType: &firestorepb.Value_TimestampValue{TimestampValue: timestamppb.New(x)}}
	case []any:
		arr := &firestorepb.ArrayValue{}
		for _, e := range x {
			arr.Values = append(arr.Values, pbValue(t, e))
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_ArrayValue{ArrayValue: arr}}
	case map[string]any:
		m := &firestorepb.MapValue{Fields: map[string]*firestorepb.Value{}}
		for k, e := range x {
			m.Fields[k] = pbValue(t, e)
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_MapValue{MapValue: m}}
	}
	t.Fatalf("pbValue: unsupported %T", v)
	return nil
}

// snapshot reads path with the admin client (missing documents included).
func (f *fixture) snapshot(path string) *firestore.DocumentSnapshot {
	f.t.Helper()
	snap, err := f.db.Doc(path).Get(f.ctx)
	if err != nil && !firestoreerr.IsNotFound(err) {
		f.t.Fatalf("get %s: %v", path, err)
	}
	return snap
}

// deliver runs the named trigger on ev directly, as a door would.
func (f *fixture) deliver(name string, ev *firestoreevent.Event) {
	f.t.Helper()
	tr, ok := f.p.trigger(name)
	if !ok {
		f.t.Fatalf("no trigger %s", name)
	}
	if err := f.p.run(f.ctx, tr, ev); err != nil {
		f.t.Fatalf("%s(%s) = %v", name, ev.Document, err)
	}
}

func describe(ev *firestoreevent.Event) string {
	return fmt.Sprintf("%s %s", ev.Change(), ev.Document)
}
