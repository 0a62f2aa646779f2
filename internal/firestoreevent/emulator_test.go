package firestoreevent_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/emulator/emutest"
	fe "github.com/hearth-chat/hearth/internal/firestoreevent"
	"github.com/hearth-chat/hearth/internal/model"
)

// The integration test runs against the real Firestore emulator through the shared harness.
func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// chatMessage is a message document as a trigger would read it.
type chatMessage struct {
	Text   string    `firestore:"text"`
	UID    string    `firestore:"uid"`
	Seq    int64     `firestore:"seq"`
	SentAt time.Time `firestore:"sentAt"`
	Tags   []string  `firestore:"tags,omitempty"`
}

// TestEmulatorEvents writes, updates and deletes a message through the Go client and
// decodes the three events the real emulator posts to a written trigger, plus the
// empty event it sends for a delete of a missing document.
func TestEmulatorEvents(t *testing.T) {
	const (
		triggerID = "us-central1-onMessageWritten-0"
		pattern   = model.MessagePattern
	)
	env := emutest.New(t)
	project := env.ProjectID
	type delivery struct {
		ev  *fe.Event
		err error
	}
	deliveries := make(chan delivery, 16)
	env.Route(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != fe.DeliveryPath(project, triggerID) {
			deliveries <- delivery{err: fmt.Errorf("event posted to %s", r.URL.Path)}
			http.NotFound(w, r)
			return
		}
		ev, err := fe.FromHTTP(r)
		deliveries <- delivery{ev, err}
		w.WriteHeader(http.StatusNoContent)
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	// RegisterTrigger itself, not the harness's wrapper: this is its integration test.
	err := fe.RegisterTrigger(ctx, nil, env.FirestoreHost, project, fe.Trigger{ID: triggerID, EventType: fe.TypeWritten, Document: pattern})
	if err != nil {
		t.Fatalf("RegisterTrigger: %v", err)
	}
	client := env.Firestore()

	next := func(step string) *fe.Event {
		t.Helper()
		select {
		case d := <-deliveries:
			if d.err != nil {
				t.Fatalf("%s: %v", step, d.err)
			}
			return d.ev
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no event within 20s", step)
		}
		return nil
	}
	check := func(step string, ev *fe.Event, change fe.Kind, doc string) {
		t.Helper()
		if ev.Type != fe.TypeWritten || ev.Kind != fe.KindWritten || ev.Change() != change {
			t.Errorf("%s: type %s, kind %v, change %v, want written, written, %v", step, ev.Type, ev.Kind, ev.Change(), change)
		}
		if ev.Project != project || ev.Database != "(default)" || ev.Document != doc || ev.ID == "" || ev.Time.IsZero() {
			t.Errorf("%s: project %q, database %q, document %q, id %q, time %v", step, ev.Project, ev.Database, ev.Document, ev.ID, ev.Time)
		}
	}

	ref := client.Doc("rooms/r1/messages/m1")
	sent := time.Date(2026, 11, 27, 4, 56, 7, 608363000, time.UTC)
	want := chatMessage{Text: "hello", UID: "alice", Seq: 1, SentAt: sent}
	if _, err := ref.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	created := next("create")
	check("create", created, fe.KindCreated, "rooms/r1/messages/m1")
	if created.Existed() || !created.Exists() || created.OldValue != nil {
		t.Errorf("create: old value %v, want none", created.OldValue)
	}
	var got chatMessage
	if err := fe.DataTo(created.Value, &got); err != nil || !got.SentAt.Equal(sent) {
		t.Errorf("create: fe.DataTo = %+v, %v, want %+v", got, err, want)
	}
	got.SentAt = sent
	if !reflect.DeepEqual(got, want) {
		t.Errorf("create: fe.DataTo = %+v, want %+v", got, want)
	}
	if params, ok := fe.Match(pattern, created.Document); !ok || params["roomId"] != "r1" || params["messageId"] != "m1" {
		t.Errorf("create: fe.Match(%q, %q) = %v, %v", pattern, created.Document, params, ok)
	}

	if _, err := ref.Update(ctx, []firestore.Update{{Path: "text", Value: "edited"}}); err != nil {
		t.Fatal(err)
	}
	updated := next("update")
	check("update", updated, fe.KindUpdated, "rooms/r1/messages/m1")
	if updated.Before()["text"] != "hello" || updated.After()["text"] != "edited" || updated.After()["seq"] != int64(1) {
		t.Errorf("update: before %v, after %v", updated.Before(), updated.After())
	}
	if changed := updated.ChangedFields(); !slices.Equal(changed, []string{"text"}) {
		t.Errorf("update: ChangedFields() = %v, want [text]", changed)
	}
	if !updated.Value.GetUpdateTime().AsTime().After(updated.OldValue.GetUpdateTime().AsTime()) {
		t.Errorf("update: update times %v then %v", updated.OldValue.GetUpdateTime(), updated.Value.GetUpdateTime())
	}
	if updated.ID == created.ID {
		t.Errorf("update: id %q repeats the create's", updated.ID)
	}

	if _, err := ref.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	deleted := next("delete")
	check("delete", deleted, fe.KindDeleted, "rooms/r1/messages/m1")
	if deleted.Exists() || deleted.Before()["text"] != "edited" {
		t.Errorf("delete: value %v, before %v, want none, text edited", deleted.Value, deleted.Before())
	}
	if err := fe.DataTo(deleted.Value, &got); !errors.Is(err, fe.ErrNoDocument) {
		t.Errorf("delete: fe.DataTo(value) error = %v, want fe.ErrNoDocument", err)
	}

	// The emulator bug: deleting a missing document fires an event with no data.
	if _, err := client.Doc("rooms/r1/messages/ghost").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	ghost := next("delete missing")
	check("delete missing", ghost, fe.KindUnknown, "rooms/r1/messages/ghost")
	if !ghost.Empty() {
		t.Errorf("delete missing: Empty() = false, value %v, old value %v", ghost.Value, ghost.OldValue)
	}
}
