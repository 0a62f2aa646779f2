package cloudfunctions

import (
	"context"
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/cloudevents/sdk-go/v2/event"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hearth-chat/hearth/functions"
	"github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

const docName = "projects/demo-hearth/databases/(default)/documents/rooms/r1/messages/m1"

func doc(text string) *firestorepb.Document {
	return &firestorepb.Document{
		Name:       docName,
		Fields:     map[string]*firestorepb.Value{"text": {ValueType: &firestorepb.Value_StringValue{StringValue: text}}},
		CreateTime: timestamppb.New(time.Unix(1700000000, 0)),
		UpdateTime: timestamppb.New(time.Unix(1700000001, 0)),
	}
}

// cloudEvent builds the event Eventarc hands the Functions Framework for a change of
// rooms/r1/messages/m1 from old to value, with raw protobuf data.
func cloudEvent(t *testing.T, typ string, value, old *firestorepb.Document) event.Event {
	t.Helper()
	data, err := firestoreevent.EncodeDocumentEventData(value, old, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := event.New()
	e.SetID("ev-1")
	e.SetSource("//firestore.googleapis.com/projects/demo-hearth/databases/(default)")
	e.SetType(typ)
	e.SetSubject("documents/rooms/r1/messages/m1")
	e.SetTime(time.Unix(1700000001, 0))
	for k, v := range map[string]string{"location": "us-central1", "project": "demo-hearth", "database": "(default)", "namespace": "(default)", "document": "rooms/r1/messages/m1"} {
		e.SetExtension(k, v)
	}
	if err := e.SetData("application/protobuf", data); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDecode(t *testing.T) {
	ev, err := Decode(cloudEvent(t, firestoreevent.TypeUpdated, doc("new"), doc("old")))
	if err != nil {
		t.Fatalf("Decode() = %v", err)
	}
	if ev.Document != "rooms/r1/messages/m1" || ev.Project != "demo-hearth" || ev.Change() != firestoreevent.KindUpdated ||
		ev.After()["text"] != "new" || ev.Before()["text"] != "old" || ev.ID != "ev-1" || ev.Location != "us-central1" {
		t.Errorf("Decode() = %+v (after %v, before %v)", ev.Meta, ev.After(), ev.Before())
	}
	bad := cloudEvent(t, "google.cloud.pubsub.topic.v1.messagePublished", doc("x"), nil)
	if _, err := Decode(bad); !errors.Is(err, firestoreevent.ErrUnsupportedType) {
		t.Errorf("Decode(pubsub event) = %v, want ErrUnsupportedType", err)
	}
}

// pipeline returns a pipeline with a recording trigger "rec" (created events of
// rooms/{roomId}/messages/{messageId}) that fails with err. Its Firestore client is never
// used.
func pipeline(t *testing.T, err error, seen *[]string) *functions.Pipeline {
	t.Helper()
	db, cerr := firestore.NewClient(context.Background(), "demo-hearth",
		option.WithoutAuthentication(), option.WithEndpoint("127.0.0.1:1"))
	if cerr != nil {
		t.Fatal(cerr)
	}
	t.Cleanup(func() { db.Close() })
	p, perr := functions.New(functions.Config{}, functions.Deps{Firestore: db})
	if perr != nil {
		t.Fatal(perr)
	}
	p.Add(functions.Trigger{Name: "rec", EventType: firestoreevent.TypeCreated, Document: model.MessagePattern,
		Handle: func(ctx context.Context, ev *firestoreevent.Event) error {
			*seen = append(*seen, ev.Document)
			return err
		}})
	return p
}

func TestHandle(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		typ     string
		value   *firestorepb.Document
		old     *firestorepb.Document
		err     error
		want    error
		handled bool
	}{
		{"created runs", firestoreevent.TypeCreated, doc("a"), nil, nil, nil, true},
		{"error asks for a retry", firestoreevent.TypeCreated, doc("a"), nil, boom, boom, true},
		{"permanent error is acknowledged", firestoreevent.TypeCreated, doc("a"), nil, functions.Permanent(boom), nil, true},
		{"written event of an update is not for a created trigger", firestoreevent.TypeWritten, doc("b"), doc("a"), nil, nil, false},
		{"empty event ignored", firestoreevent.TypeCreated, nil, nil, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			p := pipeline(t, tc.err, &seen)
			err := Handle(t.Context(), p, "rec", cloudEvent(t, tc.typ, tc.value, tc.old))
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("Handle() = %v, want %v", err, tc.want)
			}
			if got := len(seen) == 1; got != tc.handled {
				t.Errorf("Handle() ran the trigger %d times, want handled %v", len(seen), tc.handled)
			}
		})
	}
	var seen []string
	if err := Handle(t.Context(), pipeline(t, nil, &seen), "nope", cloudEvent(t, firestoreevent.TypeCreated, doc("a"), nil)); !errors.Is(err, functions.ErrNoTrigger) {
		t.Errorf("Handle(unknown trigger) = %v, want ErrNoTrigger", err)
	}
}

func TestLazyBuildRetries(t *testing.T) {
	calls := 0
	var seen []string
	l := &lazy{build: func(ctx context.Context) (*functions.Pipeline, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("no credentials yet")
		}
		return pipeline(t, nil, &seen), nil
	}}
	if _, err := l.get(t.Context()); err == nil {
		t.Fatal("get() after a failed build = nil error")
	}
	p1, err := l.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := l.get(t.Context()); p2 != p1 || calls != 2 {
		t.Errorf("get() built %d times, want 2 (one failure, then cached)", calls)
	}
}
