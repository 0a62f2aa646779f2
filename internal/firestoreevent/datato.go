package firestoreevent

import (
	"fmt"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
)

// DataTo decodes a document's fields into dst, a pointer to a struct with
// `firestore:"name"` tags or to a map[string]any, with exactly the rules of
// (*firestore.DocumentSnapshot).DataTo, so one document struct serves both the
// client and the triggers: tag options such as omitempty are ignored on decode,
// integers and floats are range-checked, fields absent from the document leave dst's
// fields unchanged, and null sets pointers, slices and maps to nil.
//
// The Go client offers no public way to build a DocumentSnapshot from a
// firestorepb.Document; it does decode firestore.AggregationResult, a map of
// *firestorepb.Value, with the same code, and DataTo goes through it. One
// consequence: a reference field decodes to a *firestore.DocumentRef that has no
// client, so use its Path and ID, never its Get or Set.
//
// A nil doc (the value of a delete, the old value of a create) gives ErrNoDocument.
func DataTo(doc *firestorepb.Document, dst any) error {
	if doc == nil {
		return fmt.Errorf("decode document into %T: %w", dst, ErrNoDocument)
	}
	fields := make(firestore.AggregationResult, len(doc.GetFields()))
	for name, v := range doc.GetFields() {
		fields[name] = v
	}
	if err := fields.DataTo(dst); err != nil {
		return fmt.Errorf("decode document %s into %T: %w", doc.GetName(), dst, err)
	}
	return nil
}
