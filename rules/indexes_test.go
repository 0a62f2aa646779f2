package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-chat/hearth/internal/media"
	"github.com/hearth-chat/hearth/internal/model"
)

// indexFile mirrors firestore.indexes.json as the Firebase CLI reads it.
type indexFile struct {
	Indexes []struct {
		CollectionGroup string `json:"collectionGroup"`
		QueryScope      string `json:"queryScope"`
		Fields          []struct {
			FieldPath   string `json:"fieldPath"`
			Order       string `json:"order"`
			ArrayConfig string `json:"arrayConfig"`
		} `json:"fields"`
	} `json:"indexes"`
	FieldOverrides []struct {
		CollectionGroup string `json:"collectionGroup"`
		FieldPath       string `json:"fieldPath"`
		Indexes         []struct {
			Order       string `json:"order"`
			ArrayConfig string `json:"arrayConfig"`
			QueryScope  string `json:"queryScope"`
		} `json:"indexes"`
	} `json:"fieldOverrides"`
}

// indexedTypes maps each collection id an index names to its document type.
var indexedTypes = map[string]any{
	model.MessagesCollection:      model.Message{},
	model.MembersCollection:       model.Member{},
	model.RoomsCollection:         model.Room{},
	model.PresenceCollection:      model.Presence{},
	model.PushQueueCollection:     model.PushQueueEntry{},
	model.AuditLogCollection:      model.AuditEntry{},
	model.TypingCollection:        model.Typing{},
	model.InboxCollection:         model.InboxEntry{},
	model.DevicesCollection:       model.Device{},
	model.UploadsCollection:       media.Upload{},       // backend only: the expiry sweep's query
	model.TalliesCollection:       model.Tally{},        // backend only: the recount of a read
	model.ReactionMarksCollection: model.ReactionMark{}, // backend only: the erasure
	model.ReportsCollection:       model.Report{},       // backend only: the moderation queue
	model.MembershipsCollection:   model.Membership{},   // backend only: a large room's read count
}

// firestoreFields returns the top-level field names of a document type.
func firestoreFields(doc any) []string {
	var out []string
	t := reflect.TypeOf(doc)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("firestore"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestIndexes checks firestore.indexes.json: well-formed for the Firebase CLI,
// and every index names a real collection and real fields of the model (a
// renamed field must not leave a dead index behind). The emulator does not
// enforce indexes, so this is the check there is.
func TestIndexes(t *testing.T) {
	raw, err := os.ReadFile("firestore.indexes.json")
	if err != nil {
		t.Fatal(err)
	}
	var f indexFile
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("decode firestore.indexes.json: %v", err)
	}
	checkField := func(where, coll, field string) {
		doc, ok := indexedTypes[coll]
		if !ok {
			t.Errorf("%s: unknown collection %q", where, coll)
			return
		}
		if !slices.Contains(firestoreFields(doc), field) {
			t.Errorf("%s: %s has no field %q (fields: %v)", where, coll, field, firestoreFields(doc))
		}
	}
	seen := map[string]bool{}
	for i, ix := range f.Indexes {
		where := fmt.Sprintf("indexes[%d] %s", i, ix.CollectionGroup)
		if ix.QueryScope != "COLLECTION" && ix.QueryScope != "COLLECTION_GROUP" {
			t.Errorf("%s: queryScope %q", where, ix.QueryScope)
		}
		if len(ix.Fields) < 2 {
			t.Errorf("%s: a composite index needs at least 2 fields (single fields are indexed automatically; deploy rejects it)", where)
		}
		var key []string
		for _, fd := range ix.Fields {
			checkField(where, ix.CollectionGroup, fd.FieldPath)
			switch {
			case fd.Order != "" && fd.ArrayConfig != "":
				t.Errorf("%s: %s has both order and arrayConfig", where, fd.FieldPath)
			case fd.Order != "ASCENDING" && fd.Order != "DESCENDING" && fd.ArrayConfig != "CONTAINS":
				t.Errorf("%s: %s needs order ASCENDING/DESCENDING or arrayConfig CONTAINS", where, fd.FieldPath)
			}
			key = append(key, fd.FieldPath+fd.Order+fd.ArrayConfig)
		}
		k := ix.CollectionGroup + ix.QueryScope + strings.Join(key, ",")
		if seen[k] {
			t.Errorf("%s: duplicate index", where)
		}
		seen[k] = true
	}
	for i, o := range f.FieldOverrides {
		where := fmt.Sprintf("fieldOverrides[%d] %s.%s", i, o.CollectionGroup, o.FieldPath)
		checkField(where, o.CollectionGroup, o.FieldPath)
		for _, ix := range o.Indexes {
			if ix.QueryScope != "COLLECTION" && ix.QueryScope != "COLLECTION_GROUP" {
				t.Errorf("%s: queryScope %q", where, ix.QueryScope)
			}
		}
	}
}
