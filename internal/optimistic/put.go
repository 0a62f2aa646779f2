package optimistic

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
)

// Put writes data as the whole document of snap: it creates the document when snap says
// it did not exist (the commit fails if it exists by then), else it replaces every field
// of data, provided the document was not changed since snap was read. data is a struct,
// or a pointer to one, encoded field by field as Set encodes it: `firestore` tags name
// the fields, "-" skips one, embedded structs (not pointers) without a tag are
// flattened, and zero "omitempty" fields are deleted from the document. Fields of the
// document that data does not declare are left as they are.
//
// Put exists because a Set cannot carry a precondition. It covers the plain structs of
// Hearth's documents, not all of Set: a tag option other than omitempty
// (serverTimestamp, omitzero) or an untagged embedded pointer makes it panic, as a
// programming error, and two fields may not share a name.
func (w *Writes) Put(snap *firestore.DocumentSnapshot, data any) {
	if !snap.Exists() {
		w.Create(snap.Ref, data)
		return
	}
	w.Update(snap, Fields(data))
}

var timeType = reflect.TypeFor[time.Time]()

// Fields returns the updates that set every field of data as Put writes them (see
// Put for what data may be), for an Update of one's own: with a precondition of its
// own, say, outside a Commit.
func Fields(data any) []firestore.Update {
	return fieldUpdates(reflect.ValueOf(data))
}

// fieldUpdates returns one update per field of the struct v (or *v).
func fieldUpdates(v reflect.Value) []firestore.Update {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("optimistic: Put of a %s, want a struct", v.Kind()))
	}
	var ups []firestore.Update
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("firestore")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || (!f.IsExported() && !f.Anonymous):
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct && f.Type != timeType:
			ups = append(ups, fieldUpdates(v.Field(i))...)
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Pointer:
			panic(fmt.Sprintf("optimistic: Put cannot encode the embedded pointer %s", f.Type))
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		fv := v.Field(i)
		var value any = fv.Interface()
		for _, opt := range strings.Split(opts, ",") {
			switch opt {
			case "":
			case "omitempty":
				if isEmpty(fv) {
					value = firestore.Delete
				}
			default:
				panic(fmt.Sprintf("optimistic: Put cannot encode field %s with option %q", f.Name, opt))
			}
		}
		ups = append(ups, firestore.Update{FieldPath: firestore.FieldPath{name}, Value: value})
	}
	return ups
}

// isEmpty is the firestore package's notion of empty for omitempty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.Struct:
		return v.Type() == timeType && v.Interface().(time.Time).IsZero()
	}
	return v.IsZero()
}
