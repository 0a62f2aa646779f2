package aggregate

import (
	"testing"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
)

func TestInt(t *testing.T) {
	res := firestore.AggregationResult{
		"count":  &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: 7}},
		"sum":    &firestorepb.Value{ValueType: &firestorepb.Value_DoubleValue{DoubleValue: 3.9}},
		"null":   &firestorepb.Value{ValueType: &firestorepb.Value_NullValue{}},
		"nil":    nil,
		"text":   &firestorepb.Value{ValueType: &firestorepb.Value_StringValue{StringValue: "9"}},
		"native": int64(5),
	}
	for alias, want := range map[string]int64{"count": 7, "sum": 3, "null": 0, "nil": 0, "text": 0, "native": 0, "missing": 0} {
		if got := Int(res, alias); got != want {
			t.Errorf("Int(%q) = %d, want %d", alias, got, want)
		}
	}
}
