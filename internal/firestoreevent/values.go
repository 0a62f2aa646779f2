package firestoreevent

import (
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/genproto/googleapis/type/latlng"
)

// Reference is a Firestore reference value: a full resource name such as
// "projects/P/databases/(default)/documents/users/alice".
type Reference string

// Path returns the document path relative to the database, e.g. "users/alice", or ""
// when the reference is not a document name.
func (r Reference) Path() string {
	_, _, path, _ := parseName(string(r))
	return path
}

// Fields returns a document's fields as Go values, or nil for a nil document:
//
//	null -> nil            boolean -> bool        integer -> int64
//	double -> float64      string -> string       bytes -> []byte
//	timestamp -> time.Time (UTC)                  reference -> Reference
//	geo point -> *latlng.LatLng                   array -> []any
//	map -> map[string]any
func Fields(doc *firestorepb.Document) map[string]any {
	if doc == nil {
		return nil
	}
	return mapValue(doc.GetFields())
}

func mapValue(fields map[string]*firestorepb.Value) map[string]any {
	m := make(map[string]any, len(fields))
	for k, v := range fields {
		m[k] = goValue(v)
	}
	return m
}

func goValue(v *firestorepb.Value) any {
	switch x := v.GetValueType().(type) {
	case *firestorepb.Value_BooleanValue:
		return x.BooleanValue
	case *firestorepb.Value_IntegerValue:
		return x.IntegerValue
	case *firestorepb.Value_DoubleValue:
		return x.DoubleValue
	case *firestorepb.Value_StringValue:
		return x.StringValue
	case *firestorepb.Value_BytesValue:
		return x.BytesValue
	case *firestorepb.Value_TimestampValue:
		return x.TimestampValue.AsTime() // UTC
	case *firestorepb.Value_ReferenceValue:
		return Reference(x.ReferenceValue)
	case *firestorepb.Value_GeoPointValue:
		return &latlng.LatLng{Latitude: x.GeoPointValue.GetLatitude(), Longitude: x.GeoPointValue.GetLongitude()}
	case *firestorepb.Value_ArrayValue:
		vals := x.ArrayValue.GetValues()
		a := make([]any, len(vals))
		for i, e := range vals {
			a[i] = goValue(e)
		}
		return a
	case *firestorepb.Value_MapValue:
		return mapValue(x.MapValue.GetFields())
	}
	return nil // null, or a value type this package does not know
}
