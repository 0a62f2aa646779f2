// Package aggregate reads the results of Firestore aggregation queries (COUNT, SUM).
package aggregate

import (
	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
)

// Int is the aggregation alias of res as an integer: a count is an integer, a sum is
// one while every summed value is (a double otherwise, truncated). A missing alias or
// a value of another type is 0.
func Int(res firestore.AggregationResult, alias string) int64 {
	pv, ok := res[alias].(*firestorepb.Value)
	if !ok {
		return 0
	}
	switch x := pv.GetValueType().(type) {
	case *firestorepb.Value_IntegerValue:
		return x.IntegerValue
	case *firestorepb.Value_DoubleValue:
		return int64(x.DoubleValue)
	}
	return 0
}
