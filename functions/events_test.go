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
	"github.com/hearth-chat/hearth/internal/model"
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

// deliver runs the named trigger on each of evs in turn directly, as a door would.
func (f *fixture) deliver(name string, evs ...*firestoreevent.Event) {
	f.t.Helper()
	tr, ok := f.p.trigger(name)
	if !ok {
		f.t.Fatalf("no trigger %s", name)
	}
	for _, ev := range evs {
		if err := f.p.run(f.ctx, tr, ev); err != nil {
			f.t.Fatalf("%s(%s) = %v", name, ev.Document, err)
		}
	}
}

// docVersions writes documents with the admin client and returns, for each write, the
// event that took the document from the version it last wrote there to the new one, as
// a door would deliver it: the material of duplicated and reordered deliveries.
type docVersions struct {
	f    *fixture
	last map[string]*firestore.DocumentSnapshot // path -> the version last written
}

func (f *fixture) versions() *docVersions {
	return &docVersions{f: f, last: map[string]*firestore.DocumentSnapshot{}}
}

// write stores data at path (nil: deletes the document) and returns the event.
func (v *docVersions) write(path string, data any) *firestoreevent.Event {
	v.f.t.Helper()
	ref := v.f.db.Doc(path)
	var err error
	if data == nil {
		_, err = ref.Delete(v.f.ctx)
	} else {
		_, err = ref.Set(v.f.ctx, data)
	}
	if err != nil {
		v.f.t.Fatalf("write %s: %v", path, err)
	}
	snap := v.f.snapshot(path) // missing after a delete: the event has no value
	ev := eventOf(v.f.t, snap, v.last[path])
	v.last[path] = snap
	return ev
}

// message writes message id of roomID as m (nil: deletes it) and returns the event.
func (v *docVersions) message(roomID, id string, m *model.Message) *firestoreevent.Event {
	v.f.t.Helper()
	if m == nil {
		return v.write(model.MessagePath(roomID, id), nil)
	}
	return v.write(model.MessagePath(roomID, id), *m)
}

func describe(ev *firestoreevent.Event) string {
	return fmt.Sprintf("%s %s", ev.Change(), ev.Document)
}
