package firestoreevent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/genproto/googleapis/type/latlng"
	"google.golang.org/protobuf/types/known/structpb"
)

// everyValue is a document with one field of each Firestore value type.
func everyValue(sent time.Time) *firestorepb.Document {
	arr := func(vs ...*firestorepb.Value) *firestorepb.Value {
		return &firestorepb.Value{ValueType: &firestorepb.Value_ArrayValue{ArrayValue: &firestorepb.ArrayValue{Values: vs}}}
	}
	obj := func(fields map[string]*firestorepb.Value) *firestorepb.Value {
		return &firestorepb.Value{ValueType: &firestorepb.Value_MapValue{MapValue: &firestorepb.MapValue{Fields: fields}}}
	}
	return &firestorepb.Document{
		Name: "projects/p/databases/(default)/documents/rooms/r1/messages/m1",
		Fields: map[string]*firestorepb.Value{
			"text":    strv("hello"),
			"seq":     intv(42),
			"score":   {ValueType: &firestorepb.Value_DoubleValue{DoubleValue: 2.5}},
			"edited":  {ValueType: &firestorepb.Value_BooleanValue{BooleanValue: true}},
			"sentAt":  tsv(sent),
			"editAt":  tsv(sent.Add(time.Minute)),
			"deleted": {ValueType: &firestorepb.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}},
			"blob":    {ValueType: &firestorepb.Value_BytesValue{BytesValue: []byte{1, 2}}},
			"author":  {ValueType: &firestorepb.Value_ReferenceValue{ReferenceValue: "projects/p/databases/(default)/documents/users/alice"}},
			"where":   {ValueType: &firestorepb.Value_GeoPointValue{GeoPointValue: &latlng.LatLng{Latitude: 48.85, Longitude: 2.35}}},
			"tags":    arr(strv("a"), strv("b")),
			"counts":  obj(map[string]*firestorepb.Value{"alice": intv(3), "bob": intv(0)}),
			"media": obj(map[string]*firestorepb.Value{
				"path":   strv("rooms/r1/m1.jpg"),
				"status": strv("ready"),
				"size":   intv(1024),
				"thumbs": arr(obj(map[string]*firestorepb.Value{"w": intv(64)}), obj(map[string]*firestorepb.Value{"w": intv(256)})),
			}),
			"mixed": arr(intv(1), strv("x"), arr(), obj(nil)),
		},
	}
}

func TestFields(t *testing.T) {
	sent := time.Date(2026, 11, 27, 4, 56, 7, 608363000, time.UTC)
	got := Fields(everyValue(sent))
	want := map[string]any{
		"text":    "hello",
		"seq":     int64(42),
		"score":   2.5,
		"edited":  true,
		"sentAt":  sent,
		"editAt":  sent.Add(time.Minute),
		"deleted": nil,
		"blob":    []byte{1, 2},
		"author":  Reference("projects/p/databases/(default)/documents/users/alice"),
		"where":   &latlng.LatLng{Latitude: 48.85, Longitude: 2.35},
		"tags":    []any{"a", "b"},
		"counts":  map[string]any{"alice": int64(3), "bob": int64(0)},
		"media": map[string]any{
			"path": "rooms/r1/m1.jpg", "status": "ready", "size": int64(1024),
			"thumbs": []any{map[string]any{"w": int64(64)}, map[string]any{"w": int64(256)}},
		},
		"mixed": []any{int64(1), "x", []any{}, map[string]any{}},
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("Fields()[%q] missing, want %#v", k, w)
			continue
		}
		if gw, ok := w.(*latlng.LatLng); ok {
			if gg, _ := g.(*latlng.LatLng); gg.GetLatitude() != gw.Latitude || gg.GetLongitude() != gw.Longitude {
				t.Errorf("Fields()[%q] = %v, want %v", k, g, w)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("Fields()[%q] = %#v, want %#v", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Fields() has %d fields, want %d", len(got), len(want))
	}
	if ts := got["sentAt"].(time.Time); ts.Location() != time.UTC {
		t.Errorf("Fields()[sentAt] location = %v, want UTC", ts.Location())
	}
	if Fields(nil) != nil {
		t.Errorf("Fields(nil) = %v, want nil", Fields(nil))
	}
	if m := Fields(&firestorepb.Document{}); m == nil || len(m) != 0 {
		t.Errorf("Fields(no fields) = %#v, want an empty map", m)
	}
}

func TestReferencePath(t *testing.T) {
	tests := []struct {
		ref  Reference
		want string
	}{
		{"projects/p/databases/(default)/documents/users/alice", "users/alice"},
		{"projects/p/databases/chat/documents/rooms/r1/members/bob", "rooms/r1/members/bob"},
		{"users/alice", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tt.ref.Path(); got != tt.want {
			t.Errorf("Reference(%q).Path() = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestChangedFields(t *testing.T) {
	doc := func(kv ...string) *firestorepb.Document {
		d := &firestorepb.Document{Fields: map[string]*firestorepb.Value{}}
		for i := 0; i+1 < len(kv); i += 2 {
			d.Fields[kv[i]] = strv(kv[i+1])
		}
		return d
	}
	tests := []struct {
		name          string
		before, after *firestorepb.Document
		want          string
	}{
		{"no-op rewrite", doc("a", "1", "b", "2"), doc("a", "1", "b", "2"), ""},
		{"one changed", doc("a", "1", "b", "2"), doc("a", "1", "b", "3"), "b"},
		{"added and removed", doc("a", "1", "b", "2"), doc("b", "2", "c", "3"), "a,c"},
		{"create", nil, doc("b", "1", "a", "1"), "a,b"},
		{"delete", doc("z", "1"), nil, "z"},
		{"empty event", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &Event{OldValue: tt.before, Value: tt.after}
			if got := strings.Join(ev.ChangedFields(), ","); got != tt.want {
				t.Errorf("ChangedFields() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindUnknown: "unknown", KindCreated: "created", KindUpdated: "updated", KindDeleted: "deleted", KindWritten: "written", Kind(99): "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
