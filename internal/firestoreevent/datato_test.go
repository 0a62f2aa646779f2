package firestoreevent

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/genproto/googleapis/type/latlng"
)

type thumb struct {
	W int `firestore:"w"`
}

type media struct {
	Path   string  `firestore:"path"`
	Status string  `firestore:"status,omitempty"`
	Size   int64   `firestore:"size"`
	Thumbs []thumb `firestore:"thumbs"`
}

// everyType has a field of each supported kind; its tags name everyValue's fields.
type everyType struct {
	Text    string                 `firestore:"text"`
	Seq     int                    `firestore:"seq"`
	Seq64   int64                  `firestore:"-"` // never decoded
	Score   float64                `firestore:"score"`
	Edited  bool                   `firestore:"edited,omitempty"`
	SentAt  time.Time              `firestore:"sentAt,serverTimestamp"`
	EditAt  *time.Time             `firestore:"editAt"`
	Deleted *time.Time             `firestore:"deleted"` // null
	Blob    []byte                 `firestore:"blob"`
	Author  *firestore.DocumentRef `firestore:"author"`
	Where   *latlng.LatLng         `firestore:"where"`
	Tags    []string               `firestore:"tags"`
	Counts  map[string]int64       `firestore:"counts"`
	Media   media                  `firestore:"media"`
	Mixed   []any                  `firestore:"mixed"`
	Missing string                 `firestore:"missing"` // not in the document: left alone
}

// pointers reads everyValue's fields through pointers. (A struct may not name one
// field twice: like encoding/json, the decoder then drops both.)
type pointers struct {
	Text   *string           `firestore:"text"`
	Seq    *int64            `firestore:"seq"`
	Media  *media            `firestore:"media"`
	Counts *map[string]int64 `firestore:"counts"`
	Tags   *[]string         `firestore:"tags"`
}

func TestDataTo(t *testing.T) {
	sent := time.Date(2026, 11, 27, 4, 56, 7, 608363000, time.UTC)
	got := everyType{Missing: "kept", Deleted: &sent, Seq64: 7}
	if err := DataTo(everyValue(sent), &got); err != nil {
		t.Fatalf("DataTo(everyValue) error = %v", err)
	}
	edit := sent.Add(time.Minute)
	wantMedia := media{Path: "rooms/r1/m1.jpg", Status: "ready", Size: 1024, Thumbs: []thumb{{64}, {256}}}
	want := everyType{
		Text: "hello", Seq: 42, Seq64: 7, Score: 2.5, Edited: true, SentAt: sent, EditAt: &edit, Deleted: nil,
		Blob: []byte{1, 2}, Tags: []string{"a", "b"}, Counts: map[string]int64{"alice": 3, "bob": 0},
		Media: wantMedia, Mixed: []any{int64(1), "x", []any{}, map[string]any{}},
		Missing: "kept",
	}
	// Compared apart: a DocumentRef and a LatLng (a proto message) do not DeepEqual.
	if got.Author == nil || got.Author.ID != "alice" || got.Author.Path != "projects/p/databases/(default)/documents/users/alice" {
		t.Errorf("DataTo Author = %+v, want users/alice", got.Author)
	}
	if got.Where.GetLatitude() != 48.85 || got.Where.GetLongitude() != 2.35 {
		t.Errorf("DataTo Where = %v, want 48.85, 2.35", got.Where)
	}
	got.Author, got.Where = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DataTo(everyValue) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDataToPointers(t *testing.T) {
	var got pointers
	if err := DataTo(everyValue(time.Unix(0, 0)), &got); err != nil {
		t.Fatalf("DataTo(pointers) error = %v", err)
	}
	text, seq := "hello", int64(42)
	counts, tags := map[string]int64{"alice": 3, "bob": 0}, []string{"a", "b"}
	want := pointers{
		Text: &text, Seq: &seq, Counts: &counts, Tags: &tags,
		Media: &media{Path: "rooms/r1/m1.jpg", Status: "ready", Size: 1024, Thumbs: []thumb{{64}, {256}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DataTo(pointers) = %+v, want %+v", got, want)
	}
}

func TestDataToMap(t *testing.T) {
	var m map[string]any
	if err := DataTo(message("hi", time.Unix(0, 0)), &m); err != nil {
		t.Fatal(err)
	}
	if m["text"] != "hi" || m["n"] != int64(1) {
		t.Errorf("DataTo(map) = %v, want text hi, n 1", m)
	}
}

func TestDataToErrors(t *testing.T) {
	var msg struct {
		Text int `firestore:"text"`
	}
	if err := DataTo(message("hi", time.Unix(0, 0)), &msg); err == nil {
		t.Errorf("DataTo(string into int) error = nil, want one")
	}
	var small struct {
		N int8 `firestore:"n"`
	}
	big := &firestorepb.Document{Fields: map[string]*firestorepb.Value{"n": intv(1000)}}
	if err := DataTo(big, &small); err == nil {
		t.Errorf("DataTo(1000 into int8) error = nil, want an overflow error")
	}
	var ok struct{ Text string }
	if err := DataTo(nil, &ok); !errors.Is(err, ErrNoDocument) {
		t.Errorf("DataTo(nil) error = %v, want ErrNoDocument", err)
	}
	if err := DataTo(message("hi", time.Unix(0, 0)), ok); err == nil {
		t.Errorf("DataTo(non-pointer) error = nil, want one")
	}
	// Untagged fields match by Go field name.
	var untagged struct{ Text string }
	if err := DataTo(&firestorepb.Document{Fields: map[string]*firestorepb.Value{"Text": strv("hi")}}, &untagged); err != nil || untagged.Text != "hi" {
		t.Errorf("DataTo(untagged) = %+v, %v, want Text hi", untagged, err)
	}
}
